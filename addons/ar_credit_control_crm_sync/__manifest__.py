# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "AR Credit Control - CRM sync",
    "summary": "Synchronise customers, credit data and payments with Zoho CRM from Odoo",
    "version": "18.0.1.1.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/ar-credit-control/ar_credit_control",
    "author": "ar_credit_control contributors",
    "license": "LGPL-3",
    "depends": ["ar_credit_control"],
    "external_dependencies": {"python": ["ar-credit-control-sdk"]},
    "data": [
        "security/ar_credit_control_crm_sync_security.xml",
        "security/ir.model.access.csv",
        "data/crm_integration_user.xml",
        "data/ir_cron.xml",
        "views/ar_crm_backend_views.xml",
        "views/ar_crm_sync_run_views.xml",
        "views/ar_crm_dead_letter_views.xml",
        "views/ar_crm_id_map_views.xml",
        "views/ar_credit_control_crm_sync_menus.xml",
    ],
}
