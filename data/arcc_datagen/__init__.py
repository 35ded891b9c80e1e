"""Receivables data generator for ar_credit_control: realistic Odoo 18 AR data at scale.

The documents are planned by ``ar_engine.sample`` (pure, shared with the demo data); ``rows``
turns plans into table rows without Odoo;
``setup_orm``, ``odoo_proof`` need it, ``bulk``/``checks``/``dbtools`` only need psycopg2.
"""
