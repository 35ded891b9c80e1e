"""Real ``crm-sync`` processes for crash tests, without paying the interpreter start-up each time.

A ``forkserver`` with crm_sync (and zeep) already imported forks each run: every run is a
separate OS process executing :func:`crm_sync.cli.main`, which a test can SIGKILL at any point,
but it starts in milliseconds instead of the second or more a fresh interpreter needs.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Mapping, Sequence
from multiprocessing.process import BaseProcess

PRELOAD = [
    "crm_sync.cli",
    "crm_sync.runtime",
    "crm_sync.fxiaoke_connector",
    "crm_sync.soap_connector",
    "crm_sync.zoho_connector",
]


def _cli_entry(argv: Sequence[str], env: Mapping[str, str]) -> None:
    os.environ.update(env)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    from crm_sync.cli import main

    sys.exit(main(list(argv)))


class CliProcesses:
    """Start ``crm-sync`` runs as forked processes: ``start(argv, env)`` / ``run(...)``."""

    def __init__(self, preload: Sequence[str] = PRELOAD) -> None:
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(list(preload))

    def start(self, argv: Sequence[str], env: Mapping[str, str]) -> BaseProcess:
        process = self._context.Process(target=_cli_entry, args=(list(argv), dict(env)))
        process.start()
        return process

    def run(self, argv: Sequence[str], env: Mapping[str, str], timeout: float = 120) -> int:
        process = self.start(argv, env)
        process.join(timeout)
        if process.exitcode is None:
            process.kill()
            process.join()
            raise TimeoutError(f"crm-sync {' '.join(argv)} did not finish in {timeout}s")
        return process.exitcode
