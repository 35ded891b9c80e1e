from odoo import fields
from odoo.tests import tagged

from ..database_objects import (
    FUNCTIONS,
    INDEXES,
    MARK,
    NAMES,
    TABLES,
    TRIGGERS,
    drop_all,
    function_signatures,
    marked_objects,
)
from .common import CreditControlCommon


@tagged("post_install", "-at_install")
class TestDatabaseObjects(CreditControlCommon):
    """What an upgrade (the models' ``init``) and an uninstall do to the functions, triggers,
    indexes and tables the addon makes itself, whatever an older release left behind."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.customer = cls.create_customer("Database objects customer")
        cls.create_invoice(cls.customer, 1000.0, cls.today)

    def upgrade(self):
        """What ``-u`` runs for these objects: every model's init."""
        for model in ("ar.credit.exposure", "ar.credit.check", "ar.open.balance"):
            self.env[model].init()
        for model in ("ar.aging.report", "ar.warning.rule", "ar.collection.forecast"):
            self.env[model].init()

    def oid(self, name):
        self.env.cr.execute("SELECT to_regclass(%s)::oid", [name])
        return self.env.cr.fetchone()[0]

    def exposure(self):
        exposures = self.env["ar.credit.exposure"]._compute_exposures(
            [self.customer.id], self.company
        )
        return exposures[self.customer.id].open_receivable

    def test_every_object_is_marked_and_listed(self):
        made = marked_objects(self.env.cr)
        kinds = {kind for kind, _name in made}
        self.assertEqual(kinds, {"function", "trigger", "index", "table"})
        for kind, name in made:
            bare = name.split("(")[0].split(" ON ")[0]
            self.assertIn(bare, NAMES[kind], f"{kind} {name} is not in database_objects.NAMES")
        listed = {(kind, name) for kind, names in NAMES.items() for name in names}
        found = {(kind, name.split("(")[0].split(" ON ")[0]) for kind, name in made}
        self.assertEqual(found, listed, "a listed object is missing or carries no mark")

    def test_upgrade_leaves_unchanged_objects_alone(self):
        before = {name: self.oid(name) for name in (*INDEXES, *TABLES)}
        functions = {name: function_signatures(self.env.cr, name) for name in FUNCTIONS}
        self.upgrade()
        self.assertEqual({name: self.oid(name) for name in (*INDEXES, *TABLES)}, before)
        self.assertEqual(
            {name: function_signatures(self.env.cr, name) for name in FUNCTIONS}, functions
        )

    def test_upgrade_replaces_a_function_whose_return_type_and_parameters_changed(self):
        # As an older release left it: another return type (CREATE OR REPLACE refuses to
        # change it) and a second signature of the same name (DROP FUNCTION name refuses).
        cr = self.env.cr
        cr.execute("DROP FUNCTION ar_credit_exposure")
        cr.execute(
            "CREATE FUNCTION ar_credit_exposure(p_partners integer[], p_company integer) "
            "RETURNS TABLE (partner_id integer) LANGUAGE sql AS 'SELECT 1'"
        )
        cr.execute(
            "CREATE FUNCTION ar_credit_exposure(p_partner integer) RETURNS integer "
            "LANGUAGE sql AS 'SELECT 1'"
        )
        self.upgrade()
        [(signature, comment)] = function_signatures(cr, "ar_credit_exposure")
        self.assertIn("p_include_draft", self._arguments("ar_credit_exposure"))
        self.assertTrue(comment.startswith(f"{MARK} "), comment)
        self.assertEqual(self.exposure(), 1000.0)

    def _arguments(self, name):
        self.env.cr.execute(
            "SELECT pg_get_function_arguments(oid) FROM pg_proc WHERE proname = %s", [name]
        )
        return self.env.cr.fetchone()[0]

    def test_upgrade_remakes_an_index_of_another_definition(self):
        cr = self.env.cr
        cr.execute("DROP INDEX ar_aging_open_line_idx")
        cr.execute("CREATE INDEX ar_aging_open_line_idx ON account_move_line (account_id)")
        self.upgrade()
        cr.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ar_aging_open_line_idx'")
        self.assertIn("amount_residual_currency", cr.fetchone()[0])
        self.assertIn(("index", "ar_aging_open_line_idx"), marked_objects(cr))

    def test_upgrade_rebuilds_an_open_balance_table_of_another_shape(self):
        cr = self.env.cr
        # An older shape, without the mark and without the rows of this customer.
        cr.execute("DROP TABLE ar_open_balance")
        cr.execute(
            "CREATE TABLE ar_open_balance (id serial PRIMARY KEY, partner_id integer, "
            "company_id integer, account_id integer, date_maturity date, is_debit boolean, "
            "amount numeric, compacted boolean NOT NULL DEFAULT false)"
        )
        self.upgrade()
        self.assertEqual(self.env["ar.open.balance"]._drift(), [])
        cr.execute(
            "SELECT SUM(amount) FROM ar_open_balance WHERE partner_id = %s", [self.customer.id]
        )
        self.assertEqual(cr.fetchone()[0], 1000)
        # The triggers keep it up to date after the upgrade.
        self.create_invoice(self.customer, 500.0, self.today)
        self.assertEqual(self.env["ar.open.balance"]._drift(), [])

    def test_upgrade_remakes_a_dropped_trigger_and_catches_up(self):
        cr = self.env.cr
        # Posting an invoice updates its lines.
        cr.execute("DROP TRIGGER ar_open_balance_on_update ON account_move_line")
        self.create_invoice(self.customer, 500.0, self.today)
        self.assertTrue(self.env["ar.open.balance"]._drift(), "the postings were missed")
        self.upgrade()
        self.assertEqual(self.env["ar.open.balance"]._drift(), [])

    def test_upgrade_remakes_the_forecast_table_and_its_view(self):
        cr = self.env.cr
        cr.execute("DROP TABLE ar_collection_forecast_data CASCADE")
        cr.execute("CREATE TABLE ar_collection_forecast_data (id serial PRIMARY KEY)")
        cr.execute(
            "CREATE VIEW ar_collection_forecast AS SELECT * FROM ar_collection_forecast_data"
        )
        cron = self.env.ref("ar_credit_control.ir_cron_collection_forecast")
        self.upgrade()
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.assertTrue(triggers, "the refresh runs at once after the upgrade")
        self.env["ar.collection.forecast"]._cron_refresh_forecast()
        forecast = self.env["ar.collection.forecast"].search(
            [("partner_id", "=", self.customer.id)]
        )
        self.assertEqual(sum(forecast.mapped("amount")), 1000.0)

    def test_uninstall_drops_everything_also_stale_signatures(self):
        cr = self.env.cr
        for name in FUNCTIONS:
            cr.execute(
                f"CREATE FUNCTION {name}(stale text) RETURNS integer LANGUAGE sql AS 'SELECT 1'"
            )
        drop_all(cr)
        cr.execute("SELECT proname FROM pg_proc WHERE proname = ANY(%s)", [list(FUNCTIONS)])
        self.assertEqual(cr.fetchall(), [])
        cr.execute("SELECT tgname FROM pg_trigger WHERE tgname = ANY(%s)", [list(TRIGGERS)])
        self.assertEqual(cr.fetchall(), [])
        for name in (*INDEXES, *TABLES):
            self.assertIsNone(self.oid(name), name)
        self.assertEqual(marked_objects(cr), [])
