"""Receivables data generator for ar_credit_control: realistic Odoo 18 AR data at scale.

The pure planning parts (``profiles``, ``instalments``, ``plan``, ``rows``) never import Odoo;
``setup_orm``, ``odoo_proof`` need it, ``bulk``/``checks``/``dbtools`` only need psycopg2.
"""
