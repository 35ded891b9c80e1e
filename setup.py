"""Installs the pure-Python half of ar_credit_control: ``ar_engine`` and ``crm_sync``.

The dependency ranges deliberately accept the versions Odoo 18.0 pins (requests 2.31,
urllib3 1.26, lxml 4.9, zeep 4.2) so that installing into Odoo's Python never upgrades
Odoo's own requirements.
"""

from setuptools import find_packages, setup

setup(
    name="ar-credit-control-sdk",
    version="18.0.1.0.0",
    description="Accounts-receivable credit control: scoring/dunning/matching/forecast "
    "algorithms (ar_engine) and the CRM sync SDK (crm_sync)",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    license="LGPL-3.0-or-later",
    python_requires=">=3.10,<3.13",
    package_dir={"": "sdk"},
    packages=find_packages("sdk"),
    package_data={"ar_engine": ["py.typed"], "crm_sync": ["py.typed", "wsdl/*.wsdl"]},
    include_package_data=True,
    install_requires=[
        "pydantic>=2.4,<3",
        "requests>=2.25,<3",
        "urllib3>=1.26,<3",
        "zeep>=4.1,<5",
        "lxml>=4.8",
        # One retry loop for every client; 8.2 and later support Python 3.10-3.12.
        "tenacity>=8.2,<10",
        "tomli>=1.1; python_version<'3.11'",
        # crm-sync's progress bars and summary table on a terminal; Odoo 18 pins none of rich's
        # dependencies (markdown-it-py, pygments), 13.x runs on Python 3.8+
        "rich>=13.3,<16",
    ],
    extras_require={
        # Zoho's official SDK (zohocrmsdk8-0), which a tier-1 test runs against the emulator, is
        # not listed: it requires requests>=2.32.2 and would upgrade Odoo 18's pinned 2.31.
        # The test installs it with --no-deps into var/zohosdk (see tests/crm_sync).
        "test": [
            "pytest>=7",
            "ruff>=0.4",
            "pylint-odoo>=9",
            # Type-checks the SDK in tier 1 (tests/test_typecheck.py).
            "mypy>=1.11,<2",
            # From 2.31.0.7 on the stubs require urllib3 2, which Odoo 18 pins below 2 on
            # Python < 3.12: these stubs install beside either.
            "types-requests>=2.31,<2.31.0.7",
            # Drives headless Chromium for the README screenshots (scripts/screenshots.py).
            "websocket-client>=1.6",
        ],
        "postgres": ["psycopg2>=2.9"],
    },
    entry_points={"console_scripts": ["crm-sync=crm_sync.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Odoo :: 18.0",
    ],
)
