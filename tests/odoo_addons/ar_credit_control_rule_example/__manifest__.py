# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "AR Credit Control: rule example",
    "summary": "Test addon, not shipped: adds a credit-check rule the way another addon would "
    "(largest single order per customer)",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/ar-credit-control/ar_credit_control",
    "author": "ar_credit_control contributors",
    "license": "LGPL-3",
    "depends": ["ar_credit_control"],
    "data": ["views/ar_credit_profile_views.xml"],
}
