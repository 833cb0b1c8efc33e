"""A separate process for the restart tests: ``start`` runs a case to review, prints the proposal and
waits to be killed; ``resume`` resumes the thread from the checkpoint store and prints the result.

Usage: python -m tests.agents.resume_worker start|resume THREAD_ID REFDATA_DB
The checkpointer is the default one: SQLite in $REPAIRDESK_DATA_DIR, or PostgreSQL via DATABASE_URL.
"""

from __future__ import annotations

import json
import sys
import time

from sqlalchemy import create_engine

from agents.runner import TriageRunner
from agents.toolbox import Toolbox, load_procedure_refs
from app.settings import Settings, configure_process
from tests.agents.fixtures import ac01_case
from tools.agent_tools import build_tools
from tools.refdata.store import RefDataStore


def main() -> None:
    command, thread_id, refdata_db = sys.argv[1:4]
    configure_process(Settings())  # this process's start-up: the environment names the data dir and DB
    if command == "start":
        store = RefDataStore(create_engine(f"sqlite:///{refdata_db}"))
        toolbox = Toolbox(tools=build_tools(store), procedures=load_procedure_refs(), search=None)
        proposal = TriageRunner(toolbox=toolbox).start(ac01_case(), thread_id)
        sys.stdout.write(json.dumps(proposal) + "\n")
        sys.stdout.flush()
        time.sleep(600)  # the test kills this process while it holds the interrupted thread
    else:
        runner = TriageRunner()
        result = runner.resume(thread_id, {"decision": "approve", "user": "restart-test"})
        # Resuming needs no tools: the toolbox was never built in this process.
        sys.stdout.write(json.dumps({"result": result, "toolbox_built": runner._toolbox is not None}) + "\n")


if __name__ == "__main__":
    main()
