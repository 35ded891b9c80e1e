"""Values of the dunning letters (formal and lawyer's): each communication with its items and
the customer's aging on the communication's date."""

from odoo import api, models


class ReportArDunningLetter(models.AbstractModel):
    _name = "report.ar_credit_control.report_dunning_letter"
    _description = "Dunning letter (PDF)"
    _lawyer = False

    @api.model
    def _get_report_values(self, docids, data=None):
        communications = self.env["ar.dunning.communication"].browse(docids)
        return {
            "doc_ids": communications.ids,
            "doc_model": "ar.dunning.communication",
            "docs": communications,
            "lawyer": self._lawyer,
            "aging": {c.id: c._aging_summary() for c in communications},
        }


class ReportArDunningLawyerLetter(models.AbstractModel):
    _name = "report.ar_credit_control.report_dunning_lawyer_letter"
    _inherit = "report.ar_credit_control.report_dunning_letter"
    _description = "Lawyer's dunning letter (PDF)"
    _lawyer = True
