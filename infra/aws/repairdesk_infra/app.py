"""CDK entry point: ``cdk synth`` (cdk.json) or ``python -m repairdesk_infra.app``."""

from __future__ import annotations

import aws_cdk as cdk

from repairdesk_infra.stack import RepairDeskStack, Settings


def build(outdir: str | None = None, *, multi_az: bool | None = None) -> cdk.App:
    app = cdk.App(outdir=outdir) if outdir else cdk.App()
    multi = multi_az if multi_az is not None else str(app.node.try_get_context("multi_az")).lower() == "true"
    RepairDeskStack(
        app,
        "RepairDesk",
        settings=Settings(multi_az=multi),
        env=cdk.Environment(account="123456789012", region="eu-central-1"),
    )
    return app


if __name__ == "__main__":
    build().synth()
