"""RepairDesk on AWS: VPC, ECS Fargate api + worker, RDS PostgreSQL, SQS with DLQ, S3, KMS, Secrets
Manager, CloudWatch logs and alarms, least-privilege IAM. Synthesises offline (``cdk synth`` or
``python -m repairdesk_infra.app``); ``tests/infra`` asserts the security properties."""

from __future__ import annotations

from dataclasses import dataclass, field

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_ecs_patterns as ecs_patterns
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_rds as rds
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sqs as sqs
from constructs import Construct

# The slowest task (OCR of a long scan plus an LLM triage) stays well under this; SQS must not
# redeliver a message while a worker still holds it.
SLOWEST_TASK = Duration.minutes(10)
VISIBILITY_TIMEOUT = Duration.minutes(15)


@dataclass(frozen=True)
class Settings:
    image: str = "repairdesk:latest"  # an ECR image URI in a real deployment
    multi_az: bool = False
    bedrock_model_ids: tuple[str, ...] = ("anthropic.claude-3-5-haiku-20241022-v1:0",)
    api_desired: int = 2
    worker_min: int = 1
    worker_max: int = 10
    alarm_queue_age_seconds: int = 900
    tags: dict[str, str] = field(default_factory=lambda: {"app": "repairdesk"})


class RepairDeskStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, settings: Settings | None = None, **kwargs: object
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)  # type: ignore[arg-type]
        cfg = settings or Settings()

        key = kms.Key(self, "DataKey", enable_key_rotation=True, description="RepairDesk data at rest")
        vpc = ec2.Vpc(self, "Vpc", max_azs=2, nat_gateways=1)
        vpc.add_flow_log("FlowLog")

        documents = s3.Bucket(
            self,
            "Documents",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
        )

        # Signed audit-chain heads (app/services/audit_anchor.py): Object Lock in compliance mode, so
        # no one, the task role and the account root included, deletes or rewrites one within retention.
        # Intended same settings as the documents bucket: both are private, encrypted, versioned buckets.
        audit_anchors = s3.Bucket(
            self,
            "AuditAnchors",
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            versioned=True,
            enforce_ssl=True,
            object_lock_enabled=True,
            object_lock_default_retention=s3.ObjectLockRetention.compliance(Duration.days(2555)),
            removal_policy=RemovalPolicy.RETAIN,
        )
        # The audit HMAC key: a secret apart from the database it protects (app/services/audit_keys.py).
        audit_key = secretsmanager.Secret(
            self,
            "AuditKey",
            encryption_key=key,
            description="RepairDesk audit-chain HMAC key",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )

        dead_letters = sqs.Queue(
            self,
            "TriageDeadLetters",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            retention_period=Duration.days(14),
            enforce_ssl=True,
        )
        jobs = sqs.Queue(
            self,
            "TriageJobs",
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            visibility_timeout=VISIBILITY_TIMEOUT,
            dead_letter_queue=sqs.DeadLetterQueue(max_receive_count=5, queue=dead_letters),
            enforce_ssl=True,
        )

        api_tokens = secretsmanager.Secret(
            self,
            "ApiTokens",
            encryption_key=key,
            description="RepairDesk API token pepper and bootstrap tokens",
        )
        database = rds.DatabaseInstance(
            self,
            "Database",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16),
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS),
            instance_type=ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MEDIUM),
            credentials=rds.Credentials.from_generated_secret("repairdesk", encryption_key=key),
            storage_encrypted=True,
            storage_encryption_key=key,
            multi_az=cfg.multi_az,
            deletion_protection=True,
            backup_retention=Duration.days(7),
            publicly_accessible=False,
            iam_authentication=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
        )

        cluster = ecs.Cluster(self, "Cluster", vpc=vpc, container_insights_v2=ecs.ContainerInsights.ENABLED)
        log_group = logs.LogGroup(
            self,
            "Logs",
            retention=logs.RetentionDays.THREE_MONTHS,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        key.grant_encrypt_decrypt(iam.ServicePrincipal(f"logs.{self.region}.amazonaws.com"))

        environment = {
            "REPAIRDESK_DOCUMENT_STORE": f"s3://{documents.bucket_name}/documents",
            "REPAIRDESK_BROKER": f"sqs://{jobs.queue_url}",
            "REPAIRDESK_DEAD_LETTER_QUEUE_URL": dead_letters.queue_url,  # where exhausted tasks go
            "REPAIRDESK_MODEL": f"bedrock:{cfg.bedrock_model_ids[0]}",
            "REPAIRDESK_DATA_DIR": "/tmp/repairdesk",
            "REPAIRDESK_AUDIT_ANCHOR": f"s3://{audit_anchors.bucket_name}/anchors",
        }
        secrets = {
            "DATABASE_SECRET": ecs.Secret.from_secrets_manager(database.secret),  # type: ignore[arg-type]
            "REPAIRDESK_TOKEN_SECRET": ecs.Secret.from_secrets_manager(api_tokens),
            "REPAIRDESK_AUDIT_KEY": ecs.Secret.from_secrets_manager(audit_key),
        }
        image = ecs.ContainerImage.from_registry(cfg.image)

        api = ecs_patterns.ApplicationLoadBalancedFargateService(
            self,
            "Api",
            cluster=cluster,
            desired_count=cfg.api_desired,
            cpu=1024,
            memory_limit_mib=2048,
            public_load_balancer=True,
            task_image_options=ecs_patterns.ApplicationLoadBalancedTaskImageOptions(
                image=image,
                container_port=8000,
                environment=environment,
                secrets=secrets,
                command=["repairdesk", "serve", "--host", "0.0.0.0", "--port", "8000"],
                log_driver=ecs.LogDrivers.aws_logs(stream_prefix="api", log_group=log_group),
            ),
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )
        api.target_group.configure_health_check(path="/readyz", healthy_http_codes="200")

        worker_task = ecs.FargateTaskDefinition(self, "WorkerTask", cpu=2048, memory_limit_mib=4096)
        worker_task.add_container(
            "worker",
            image=image,
            environment=environment,
            secrets=secrets,
            command=["repairdesk", "worker"],
            logging=ecs.LogDrivers.aws_logs(stream_prefix="worker", log_group=log_group),
            health_check=ecs.HealthCheck(
                command=["CMD", "repairdesk", "worker", "--check"], interval=Duration.seconds(30), retries=3
            ),
            stop_timeout=Duration.seconds(120),  # graceful shutdown: finish or requeue the running task
        )
        worker = ecs.FargateService(
            self,
            "Worker",
            cluster=cluster,
            task_definition=worker_task,
            desired_count=cfg.worker_min,
            circuit_breaker=ecs.DeploymentCircuitBreaker(rollback=True),
        )
        scaling = worker.auto_scale_task_count(min_capacity=cfg.worker_min, max_capacity=cfg.worker_max)
        scaling.scale_on_metric(
            "QueueDepth",
            metric=jobs.metric_approximate_number_of_messages_visible(period=Duration.minutes(1)),
            scaling_steps=[
                appscaling.ScalingInterval(upper=0, change=-1),
                appscaling.ScalingInterval(lower=20, change=+1),
                appscaling.ScalingInterval(lower=200, change=+3),
            ],
            adjustment_type=appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
        )

        for service in (api.service, worker):
            database.connections.allow_default_port_from(service)
            task_role = service.task_definition.task_role
            documents.grant_read_write(task_role, "documents/*")
            jobs.grant_send_messages(task_role)
            jobs.grant_consume_messages(task_role)
            dead_letters.grant_send_messages(task_role)
            api_tokens.grant_read(task_role)
            audit_key.grant_read(task_role)
            audit_anchors.grant_put(task_role, "anchors/*")  # includes s3:PutObjectRetention
            audit_anchors.grant_read(task_role, "anchors/*")
            task_role.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"],
                    resources=[
                        f"arn:aws:bedrock:{self.region}::foundation-model/{model_id}"
                        for model_id in cfg.bedrock_model_ids
                    ],
                )
            )

        alarms = [
            cloudwatch.Alarm(
                self,
                "QueueAgeAlarm",
                metric=jobs.metric_approximate_age_of_oldest_message(period=Duration.minutes(5)),
                threshold=cfg.alarm_queue_age_seconds,
                evaluation_periods=1,
                alarm_description="Triage jobs wait too long: scale workers or check the dead-letter queue.",
            ),
            cloudwatch.Alarm(
                self,
                "DeadLetterAlarm",
                metric=dead_letters.metric_approximate_number_of_messages_visible(period=Duration.minutes(5)),
                threshold=1,
                evaluation_periods=1,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                alarm_description="Jobs reached the dead-letter queue: fix the cause, then replay (runbook).",
            ),
            cloudwatch.Alarm(
                self,
                "Api5xxAlarm",
                metric=api.load_balancer.metrics.http_code_target(
                    code=elbv2.HttpCodeTarget.TARGET_5XX_COUNT, period=Duration.minutes(5)
                ),
                threshold=10,
                evaluation_periods=2,
                alarm_description="The API answers 5xx.",
            ),
        ]
        guard_filter = logs.MetricFilter(
            self,
            "GuardViolations",
            log_group=log_group,
            metric_namespace="RepairDesk",
            metric_name="GuardViolations",
            filter_pattern=logs.FilterPattern.string_value("$.event", "=", "guard_violation"),
            metric_value="1",
        )
        alarms.append(
            cloudwatch.Alarm(
                self,
                "GuardViolationAlarm",
                metric=guard_filter.metric(period=Duration.minutes(15), statistic="Sum"),
                threshold=5,
                evaluation_periods=1,
                alarm_description="Many proposals broke a guard rule: check the model and the procedures.",
            )
        )
        self.alarms = alarms
        self.documents, self.jobs, self.dead_letters, self.database = documents, jobs, dead_letters, database
