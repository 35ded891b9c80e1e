"""Who may print the receivables reports, and of which companies.

Their company and customers come from the report URL's options, which any logged-in user can
write: only credit control users print them, and only for companies they belong to. Odoo does
not check a report's groups on its URL. Renderings by the addon itself (portal, balance
confirmation) run in sudo with a company they chose: trusted.
"""

from odoo.exceptions import AccessError

USER_GROUP = "ar_credit_control.group_credit_control_user"


def check_report_companies(env, companies):
    if env.su:
        return
    if not env.user.has_group(USER_GROUP):
        raise AccessError(env._("Only credit control users can print receivables reports."))
    if companies - env.user.company_ids:
        raise AccessError(env._("You can only print the receivables of your own companies."))
