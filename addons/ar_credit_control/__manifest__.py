# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "AR Credit Control",
    "summary": "Credit grades and limits from payment behaviour, exposure, credit block, "
    "aging, dunning, reconciliation, early warnings and collection forecast",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/ar-credit-control/ar_credit_control",
    "author": "ar_credit_control contributors",
    "license": "LGPL-3",
    "application": True,
    "depends": ["account", "sale_management"],
    "external_dependencies": {"python": ["ar_engine"]},
    "data": [
        "security/ar_credit_control_security.xml",
        "security/ir.model.access.csv",
        "data/ar_credit_control_data.xml",
        "data/ar_aging_data.xml",
        "views/ar_credit_profile_views.xml",
        "views/ar_credit_review_views.xml",
        "views/ar_credit_policy_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/ar_credit_control_menus.xml",
        "views/ar_aging_views.xml",
        "views/ar_receivable_kpi_views.xml",
        "reports/ar_aging_report.xml",
    ],
}
