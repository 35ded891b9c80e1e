"""Sample receivables histories planned on plain data: who pays how (``profiles``), payment
terms (``instalments``) and invoices with their payments and credit notes (``plan``).

Seeded and pure: the addon's demo data writes the plans through Odoo's ORM, the data generator
(``data/arcc_datagen``) streams them into a database at benchmark scale.
"""
