# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "AR Credit Control - Deliveries",
    "summary": "Optionally block deliveries to customers on credit hold",
    "version": "18.0.1.1.0",
    "category": "Accounting/Accounting",
    "website": "https://github.com/ar-credit-control/ar_credit_control",
    "author": "ar_credit_control contributors",
    "license": "LGPL-3",
    "depends": ["ar_credit_control", "stock"],
    "auto_install": True,
    "data": ["views/res_config_settings_views.xml"],
}
