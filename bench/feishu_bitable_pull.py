"""Bitable pull of a 10,000-row TR table from the Feishu stub, on PostgreSQL.

    .venv/bin/python bench/feishu_bitable_pull.py [--rows 10000]

A fresh database (`helpdesk_bench_feishu_bt`), one tenant with one Feishu app, the stub
(feishustub, in a thread, over real HTTP through lark-oapi) serving a sample TR table of
`--rows` rows in pages of 500. Runs the first (full) pull, then the same pull again:
the second must create and update nothing and add no timeline event.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.benchdb import recreate_database, setup_django  # noqa: E402
from feishustub import FeishuStub  # noqa: E402

DATABASE = "helpdesk_bench_feishu_bt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    recreate_database(DATABASE)
    setup_django(DATABASE, migrate=True)
    from accounts.models import Tenant
    from feishu.bitable.pull import bitable_pull
    from feishu.bitable.services import bitable_sync_create
    from feishu.models import FeishuApp
    from helpdesk.tenancy import tenant_scope
    from workorders.models import WorkOrder, WorkOrderEvent

    with FeishuStub() as stub:
        stub.state.add_app("cli_bench", "bench-secret")
        stub.state.fill_table("bascnBench", "tblBench", args.rows)
        tenant = Tenant.objects.create(name="压测", slug="bench")
        with tenant_scope(tenant):
            app = FeishuApp.objects.create(
                name="bench", app_id="cli_bench", app_secret="bench-secret", domain=stub.url
            )
            sync = bitable_sync_create(
                app=app, name="TR", app_token="bascnBench", table_id="tblBench"
            )
            for label in ("first pull (full)", "second pull (incremental)"):
                events_before = WorkOrderEvent.objects.count()
                started = time.perf_counter()
                run = bitable_pull(sync=sync)
                seconds = time.perf_counter() - started
                print(
                    f"{label}: {seconds:.1f} s, {args.rows / seconds:,.0f} rows/s, "
                    f"pages {run.pages}, created {run.created}, updated {run.updated}, "
                    f"skipped {run.skipped}, failed {run.failed}, status {run.status}; "
                    f"work orders {WorkOrder.objects.count()}, new timeline events "
                    f"{WorkOrderEvent.objects.count() - events_before}"
                )
    one, five, fifteen = os.getloadavg()
    print(f"load average at the end: {one:.2f} {five:.2f} {fifteen:.2f}")


if __name__ == "__main__":
    main()
