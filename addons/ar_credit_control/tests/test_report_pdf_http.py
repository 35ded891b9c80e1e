"""Letters and statements printed as in production, in English and Chinese.

wkhtmltopdf fetches the report stylesheets from the HTTP server (`report.url`), here the test
server: the PDF is the styled document a customer receives. It must keep a text layer (the
customer's name, the amounts and the headings can be searched and copied) in the customer's
language, be set in the server's fonts (Noto Sans CJK SC: a web font is drawn as outlines by
wkhtmltopdf on an unpatched Qt) and stay small.
"""

import io
import unicodedata

from PyPDF2 import PdfReader

from odoo.tests import HttpCase, tagged

from .common import CreditControlCommon
from .dunning_common import DunningCommon

# A styled page of text weighs about 15-25 KB; drawn as outlines, 200-280 KB.
MAX_BYTES_PER_PAGE = 60_000
# The font our report stylesheet sets (Debian's fonts-noto-cjk); without the stylesheet,
# wkhtmltopdf would use its default serif font.
REPORT_FONT = "NotoSansCJKsc"


def pdf_pages(pdf):
    """(text of each page, font names used, bytes per page). NFKC: the Noto CJK fonts draw some
    ideographs (日, 月, 金, 方, 户...) with the glyph of a Kangxi radical, and the text layer
    written by Qt names the radical (the lowest code point of the glyph); NFKC gives back the
    ideograph, as a PDF viewer's search does, except where the radical's own form is the
    traditional one (户 comes back as 戶): the phrases below avoid those."""
    reader = PdfReader(io.BytesIO(pdf))
    texts, fonts = [], set()
    for page in reader.pages:
        texts.append(" ".join(unicodedata.normalize("NFKC", page.extract_text()).split()))
        for font in page["/Resources"].get("/Font", {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    return texts, fonts, len(pdf) / len(reader.pages)


@tagged("post_install", "-at_install")
class TestReportPdfHttp(DunningCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["res.lang"]._activate_lang("zh_CN")
        # As Odoo does when a language is installed: the .po terms, and the aging set's labels.
        cls.env["ir.module.module"].search(
            [("name", "=", "ar_credit_control")]
        )._update_translations("zh_CN")
        cls.env["ir.config_parameter"].sudo().set_param("report.url", cls.base_url())
        cls.customer_en = cls.dunned_customer("Pemberton Trading Ltd", lang="en_US")
        cls.customer_zh = cls.dunned_customer("Shenzhen Huaxin Trading", lang="zh_CN")
        for customer in (cls.customer_en, cls.customer_zh):
            cls.invoice_due(customer, 4321.5, "2026-03-01")
            cls.invoice_due(customer, 100.0, "2026-03-20")

    def assert_printable(self, pdf, expected_pages):
        texts, fonts, bytes_per_page = pdf_pages(pdf)
        self.assertEqual(len(texts), expected_pages)
        self.assertTrue(all(texts), "every page has a text layer")
        self.assertTrue(
            any(REPORT_FONT in font for font in fonts),
            f"set in the report font, so the stylesheet was applied: {fonts}",
        )
        self.assertLess(bytes_per_page, MAX_BYTES_PER_PAGE, "text, not outlines")
        return texts

    def letter(self, customer):
        self.run_on("2026-03-15")
        self.run_on("2026-03-16")  # level 3: the formal letter
        communication = self.communications(customer)[-1]
        self.assertEqual(communication.level_sequence, 3)
        attachment = communication.with_context(force_report_rendering=True)._render_letter(
            "ar_credit_control.action_report_dunning_letter"
        )
        self.assertEqual(attachment.mimetype, "application/pdf")
        return " ".join(self.assert_printable(attachment.raw, 1))

    def test_dunning_letter_in_english(self):
        text = self.letter(self.customer_en)
        for expected in (
            "Pemberton Trading Ltd",
            "Overdue invoices",
            "4,321.50",
            "Your account by age",
            "In payment",
            "Not due",
        ):
            self.assertIn(expected, text)
        self.assertNotIn("未到期", text)

    def test_dunning_letter_in_chinese(self):
        text = self.letter(self.customer_zh)
        for expected in (
            "Shenzhen Huaxin Trading",
            "逾期发票",  # Overdue invoices
            "4,321.50",
            "账龄",  # Your account by age
            "付款中",  # In payment
            "未到期",  # Not due
            "此致敬礼",  # Yours sincerely
        ):
            self.assertIn(expected, text)
        self.assertNotIn("Not due", text)

    def test_statements_in_each_customer_language(self):
        """One print of both customers' statements, outstanding then activity (as from the
        customer list, by a collector working in English): each in its customer's language,
        labels of the data included."""
        customers = self.customer_en | self.customer_zh
        pdf, kind = (
            self.env["ir.actions.report"]
            .with_user(self.collector)
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(
                "ar_credit_control.report_ar_statement_outstanding",
                customers.ids,
                data={"company_id": self.company.id, "as_of": "2026-03-16"},
            )
        )
        self.assertEqual(kind, "pdf")
        english, chinese = self.assert_printable(pdf, 2)
        for expected in ("Pemberton Trading Ltd", "Statement of account", "Invoice", "4,321.50"):
            self.assertIn(expected, english)
        for expected in ("Not due", "In payment", "Balance due", "2 Customer Road"):
            self.assertIn(expected, english)
        for expected in ("Shenzhen Huaxin Trading", "对账单", "发票", "4,321.50"):
            self.assertIn(expected, chinese)
        for expected in ("未到期", "付款中", "应付余额", "2 Customer Road"):
            self.assertIn(expected, chinese)
        self.assertNotIn("Not due", chinese)
        self.assertNotIn("Invoice ", chinese)

        pdf, kind = (
            self.env["ir.actions.report"]
            .with_user(self.collector)
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(
                "ar_credit_control.report_ar_statement_activity",
                customers.ids,
                data={
                    "company_id": self.company.id,
                    "date_from": "2026-03-01",
                    "date_to": "2026-03-16",
                },
            )
        )
        english, chinese = self.assert_printable(pdf, 2)
        for expected in ("Pemberton Trading Ltd", "Account activity", "Invoice", "4,321.50"):
            self.assertIn(expected, english)
        for expected in ("Shenzhen Huaxin Trading", "往来明细", "期初余额", "发票", "4,321.50"):
            self.assertIn(expected, chinese)
        self.assertNotIn("Invoice", chinese)


@tagged("post_install", "-at_install")
class TestAgingLabelTranslations(CreditControlCommon):
    """The aging set's labels are data written in English ("Not due", "In payment"): each
    installed language gets their translation, whoever creates the set and whenever the
    language is installed, and a label a user changed is kept."""

    def labels(self, bucket_set, lang):
        bucket_set = bucket_set.with_context(lang=lang)
        return [bucket_set.name, *bucket_set.line_ids.sorted("sequence").mapped("name")]

    def test_language_installed_after_the_set(self):
        bucket_set = self.env["ar.aging.bucket.set"]._get_default(self.company)
        bucket_set.line_ids.filtered(lambda line: line.max_days == 30).with_context(
            lang="en_US"
        ).name = "1-30 days"
        self.env["res.lang"]._activate_lang("zh_CN")
        self.env["ir.module.module"].search(
            [("name", "=", "ar_credit_control")]
        )._update_translations("zh_CN")
        self.assertEqual(
            self.labels(bucket_set, "zh_CN"),
            [
                "标准（30/60/90）",
                "付款中",
                "未到期",
                "1-30 days",
                "31-60",
                "61-90",
                "90+",
                "未核销",
            ],
        )
        self.assertEqual(
            self.labels(bucket_set, "en_US"),
            [
                "Standard (30/60/90)",
                "In payment",
                "Not due",
                "1-30 days",
                "31-60",
                "61-90",
                "90+",
                "Unapplied",
            ],
        )

    def test_set_created_by_a_chinese_user(self):
        self.env["res.lang"]._activate_lang("zh_CN")
        company = self.env["res.company"].create({"name": "Labels Co"})
        bucket_set = (
            self.env["ar.aging.bucket.set"].with_context(lang="zh_CN")._get_default(company)
        )
        self.assertEqual(
            self.labels(bucket_set, "zh_CN")[:3], ["标准（30/60/90）", "付款中", "未到期"]
        )
        self.assertEqual(
            self.labels(bucket_set, "en_US")[:3], ["Standard (30/60/90)", "In payment", "Not due"]
        )
        # A set a user makes gets its "in payment" line in both languages too.
        custom = (
            self.env["ar.aging.bucket.set"]
            .with_context(lang="zh_CN")
            .create(
                {
                    "name": "每月",
                    "company_id": company.id,
                    "line_ids": [
                        (0, 0, {"name": "未到期", "max_days": 0, "sequence": 1}),
                        (0, 0, {"name": "30+", "open_ended": True, "sequence": 2}),
                    ],
                }
            )
        )
        in_payment = custom.line_ids.filtered(lambda line: line.kind == "in_payment")
        self.assertEqual(in_payment.with_context(lang="zh_CN").name, "付款中")
        self.assertEqual(in_payment.with_context(lang="en_US").name, "In payment")
