"""Translations of the labels this addon writes as data (aging sets): given when the addon is
installed or updated and when a language is installed later, as Odoo does for its .po terms."""

from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _update_translations(self, filter_lang=None, overwrite=False):
        super()._update_translations(filter_lang=filter_lang, overwrite=overwrite)
        if "ar_credit_control" in self.mapped("name"):
            langs = [filter_lang] if isinstance(filter_lang, str) else filter_lang
            self.env["ar.aging.bucket.set"].sudo().with_context(active_test=False).search(
                []
            )._translate_default_labels(langs)
