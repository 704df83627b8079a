# The Datadog dashboard operators watch after every deploy, and the monitors of one environment.
#
# Where the metrics come from:
#   mechanica.*    the API's Prometheus metrics (GET /metrics), scraped on each instance by the
#                  Datadog agent's OpenMetrics check (modules/api_bluegreen,
#                  files/datadog/conf.d/openmetrics.d/conf.yaml, namespace `mechanica`). Names
#                  follow the check's latest mode:
#                    counter   foo_total -> mechanica.foo.count  (monotonic count, `_total` dropped)
#                    gauge     foo       -> mechanica.foo
#                    histogram foo       -> mechanica.foo        (a distribution built from the
#                                                                 buckets: p95, max, avg)
#                                           mechanica.foo.count, mechanica.foo.sum
#                  Prometheus labels become tags (route, method, status, outcome, state); the
#                  agent adds `env` and the host tags `role:orders-api`, `colour:<blue|green>`.
#                  tests/tests/suite/datadog.rs reads every mechanica.* name queried here back
#                  from the /metrics of running processes, so a name that is not emitted fails
#                  the test command.
#   system.*       the same agent's host metrics (CPU, network) of the API instances.
#   mechanica.*_total, mechanica.<histogram>
#                  the dispatch Lambda's own metrics (and a webhook-dispatch-worker's), pushed
#                  over DogStatsD to the Datadog Lambda extension (modules/dispatch_lambda) or
#                  an agent by webhook_dispatch::metrics, with the same prefix: a counter keeps
#                  its Prometheus name (mechanica.webhook_attempts_total, where the API's is
#                  mechanica.webhook_attempts.count), a histogram is a distribution under its own
#                  name, the same as the API's (mechanica.webhook_attempt_duration_seconds).
#                  The same test reads them from a running worker.
#   aws.sqs.*, aws.lambda.*
#                  the Datadog AWS integration (CloudWatch): queue depth and age, the DLQ, the
#                  dispatch Lambda's invocations, errors, throttles and duration.
#   planetscale.*  PlanetScale's Datadog integration (Insights), configured in the PlanetScale
#                  organisation's settings with a Datadog API key; it reports every branch.

locals {
  env    = "env:${var.environment}"
  api    = "env:${var.environment},role:orders-api"
  queue  = "queuename:${lower(var.queue_name)}"
  dlq    = "queuename:${lower(var.dlq_name)}"
  lambda = "functionname:${lower(var.function_name)}"

  title = "mechanica ${var.environment}: orders API and webhook delivery"

  # A timeseries widget of one or more queries, each drawn as lines.
  widgets = {
    api = [
      {
        title = "Requests per second by route"
        q     = ["sum:mechanica.http_requests.count{${local.env}} by {route}.as_rate()"]
      },
      {
        title = "5xx share of responses by route (%)"
        q     = ["100 * sum:mechanica.http_requests.count{${local.env},status:5*} by {route}.as_count() / sum:mechanica.http_requests.count{${local.env}} by {route}.as_count()"]
      },
      {
        title = "4xx and 5xx per second by status"
        q     = ["sum:mechanica.http_requests.count{${local.env},status:4*} by {status}.as_rate()", "sum:mechanica.http_requests.count{${local.env},status:5*} by {status}.as_rate()"]
      },
      {
        title = "Latency p95 by route (s)"
        q     = ["p95:mechanica.http_request_duration_seconds{${local.env}} by {route}"]
      },
      {
        title = "Mean latency by route (s)"
        q     = ["sum:mechanica.http_request_duration_seconds.sum{${local.env}} by {route}.as_count() / sum:mechanica.http_request_duration_seconds.count{${local.env}} by {route}.as_count()"]
      },
    ]
    delivery = [
      {
        title = "Webhook attempts by outcome (the Lambda's, and an in-process dispatcher's)"
        q = [
          "sum:mechanica.webhook_attempts_total{${local.env}} by {outcome}.as_count()",
          "sum:mechanica.webhook_attempts.count{${local.env}} by {outcome}.as_count()",
        ]
      },
      {
        title = "Webhook attempt duration p95 (s, every dispatcher)"
        q     = ["p95:mechanica.webhook_attempt_duration_seconds{${local.env}}"]
      },
      {
        title = "Relay: deliveries published per second"
        q     = ["sum:mechanica.relay_published.count{${local.env}}.as_rate()"]
      },
      {
        title = "Relay lag: age of the oldest delivery in a published batch (s, max)"
        q     = ["max:mechanica.relay_lag_seconds{${local.env}}"]
      },
      {
        title = "Oldest pending delivery: age of the queue's oldest message (s)"
        q     = ["max:aws.sqs.approximate_age_of_oldest_message{${local.queue}}"]
      },
      {
        title = "Queue: messages visible and in flight"
        q     = ["max:aws.sqs.approximate_number_of_messages_visible{${local.queue}}", "max:aws.sqs.approximate_number_of_messages_not_visible{${local.queue}}"]
      },
      {
        title = "DLQ depth"
        q     = ["max:aws.sqs.approximate_number_of_messages_visible{${local.dlq}}"]
      },
      {
        title = "Dispatch Lambda: invocations, errors, throttles"
        q     = ["sum:aws.lambda.invocations{${local.lambda}}.as_count()", "sum:aws.lambda.errors{${local.lambda}}.as_count()", "sum:aws.lambda.throttles{${local.lambda}}.as_count()"]
      },
      {
        title = "Dispatch Lambda: duration (ms) and concurrency"
        q     = ["avg:aws.lambda.duration{${local.lambda}}", "max:aws.lambda.duration.maximum{${local.lambda}}", "max:aws.lambda.concurrent_executions{${local.lambda}}"]
      },
    ]
    database = [
      {
        title = "Lock conflicts run again (deadlocks, lock wait timeouts)"
        q     = ["sum:mechanica.database_lock_conflicts.count{${local.env}}.as_count()"]
      },
      {
        title = "Connection pool by instance and state"
        q     = ["avg:mechanica.db_pool_connections{${local.env}} by {host,state}"]
      },
      {
        title = "PlanetScale: query latency (ms, as Insights reports it)"
        q     = ["max:planetscale.queries.latency{*}"]
      },
      {
        title = "PlanetScale: rows read and written per second"
        q     = ["sum:planetscale.rows_read{*}.as_rate()", "sum:planetscale.rows_written{*}.as_rate()"]
      },
      {
        title = "PlanetScale: connections"
        q     = ["max:planetscale.connections{*}"]
      },
    ]
    hosts = [
      {
        title = "API instances: CPU busy (%)"
        q     = ["100 - avg:system.cpu.idle{${local.api}} by {host}"]
      },
      {
        title = "API instances: network in and out (bytes/s)"
        q     = ["sum:system.net.bytes_rcvd{${local.api}} by {host}", "sum:system.net.bytes_sent{${local.api}} by {host}"]
      },
    ]
  }

  groups = [
    { key = "api", title = "API: traffic, errors, latency (per route)" },
    { key = "delivery", title = "Webhook delivery: attempts, relay, queue, DLQ, Lambda" },
    { key = "database", title = "Database: lock conflicts, pool, PlanetScale Insights" },
    { key = "hosts", title = "EC2: the blue and green API instances" },
  ]

  dashboard = {
    title       = local.title
    description = "Managed by Terraform (infra/modules/datadog): edits in the UI are overwritten. mechanica.* from the API's /metrics through the agent's OpenMetrics check; aws.* from the AWS integration; planetscale.* from PlanetScale's integration."
    layout_type = "ordered"
    reflow_type = "auto"
    widgets = [
      for group in local.groups : {
        definition = {
          type        = "group"
          title       = group.title
          layout_type = "ordered"
          widgets = [
            for widget in local.widgets[group.key] : {
              definition = {
                type        = "timeseries"
                title       = widget.title
                show_legend = true
                requests    = [for q in widget.q : { q = q, display_type = "line" }]
              }
            }
          ]
        }
      }
    ]
  }
}

resource "datadog_dashboard_json" "service" {
  dashboard = jsonencode(local.dashboard)
}

# Percentiles (p95 above and in the latency monitor) are computed only for distributions that
# have them switched on. The tag list is what those queries may filter and group by. A metric's
# tag configuration belongs to the Datadog organisation, not to an environment: exactly one
# environment manages it (manage_metric_tag_configuration), and Datadog accepts it only once the
# metric has been received.
resource "datadog_metric_tag_configuration" "latency" {
  for_each = var.manage_metric_tag_configuration ? toset([
    "mechanica.http_request_duration_seconds",
    "mechanica.webhook_attempt_duration_seconds",
  ]) : toset([])

  metric_name         = each.key
  metric_type         = "distribution"
  tags                = ["env", "host", "role", "colour", "route", "method"]
  include_percentiles = true
}

# Each monitor's message is its runbook: what it means, what to look at, what to do.
locals {
  monitors = {
    api_error_ratio = {
      name     = "[${var.environment}] orders-api: 5xx share of responses above ${var.error_ratio_percent} %"
      query    = "sum(last_10m):100 * sum:mechanica.http_requests.count{${local.env},status:5*}.as_count() / sum:mechanica.http_requests.count{${local.env}}.as_count() > ${var.error_ratio_percent}"
      critical = var.error_ratio_percent
      warning  = var.error_ratio_percent / 2
      delay    = 0
      priority = 2
      runbook  = <<-EOT
        More than ${var.error_ratio_percent} % of the API's responses in the last 10 minutes were 5xx.
        - Dashboard "${local.title}", group API: which routes, since when; a deploy just before it
          points at the release (`infra/pipeline/release.sh status <env>` names it).
        - Logs: `status >= 500` lines carry `request_id` and the cause chain.
        - 503 from every route with /readyz failing: the database is unreachable (PlanetScale
          status, the DSN in the app secret).
        - A bad release: `infra/pipeline/release.sh rollback <env>` puts the previous one back
          (the API, then the Lambda and the portal).
      EOT
    }

    api_latency_p95 = {
      name     = "[${var.environment}] orders-api: p95 latency of {{route.name}} above ${var.latency_p95_seconds} s"
      query    = "percentile(last_10m):p95:mechanica.http_request_duration_seconds{${local.env}} by {route} > ${var.latency_p95_seconds}"
      critical = var.latency_p95_seconds
      warning  = var.latency_p95_seconds / 2
      delay    = 0
      priority = 3
      runbook  = <<-EOT
        The p95 latency of {{route.name}} over 10 minutes is above ${var.latency_p95_seconds} s.
        - Database first: lock conflicts, pool in use and PlanetScale query latency on the
          dashboard; PlanetScale Insights names the slow query pattern.
        - Pool at its size: requests wait for a connection (DATABASE_MAX_CONNECTIONS, default 16).
        - CPU of the instance near 100 % (t3 credits spent): scale the instance type.
        - Changes (status, cancel, test events) in memory mode wait up to INTAKE_WAIT_MS for the
          dispatcher by design; that adds at most 250 ms.
      EOT
    }

    relay_lag = {
      name     = "[${var.environment}] relay: deliveries published more than ${var.relay_lag_seconds} s after their commit"
      query    = "max(last_10m):max:mechanica.relay_lag_seconds{${local.env}} > ${var.relay_lag_seconds}"
      critical = var.relay_lag_seconds
      warning  = var.relay_lag_seconds / 2
      delay    = 0
      priority = 2
      runbook  = <<-EOT
        The relay published a batch whose oldest delivery was committed more than ${var.relay_lag_seconds} s earlier:
        webhooks leave late.
        - Relay logs (`publishing failed`, `part of the batch was not accepted`): SQS throttling,
          the instance role or the queue's KMS key.
        - Claims left by a crashed instance are taken again after 30 s; a lag that stays high
          means no relay runs: is orders-api up on the live colour?
        - Queue side: the oldest message age and the Lambda's errors on the dashboard.
      EOT
    }

    dlq_not_empty = {
      name     = "[${var.environment}] webhook DLQ ${var.dlq_name} is not empty"
      query    = "max(last_5m):max:aws.sqs.approximate_number_of_messages_visible{${local.dlq}} > 0"
      critical = 0
      warning  = null
      delay    = 900
      priority = 2
      runbook  = <<-EOT
        Messages in ${var.dlq_name}: deliveries the queue gave up on after maxReceiveCount receives (or
        messages that could not be parsed). The relay's sweeper republishes overdue pending
        deliveries, so nothing is lost, but something keeps failing.
        - Look at a message (`aws sqs receive-message` on the DLQ): its `delivery_id`, then that
          delivery's attempts (GET /v1/webhook-deliveries/{id} with an operator key).
        - Lambda errors at the same time: the function crashed or timed out on these messages.
        - Once understood, redrive (`aws sqs start-message-move-task`) or purge the DLQ.
      EOT
    }

    oldest_message_age = {
      name     = "[${var.environment}] webhook queue: oldest message older than ${var.oldest_message_age_seconds} s"
      query    = "max(last_10m):max:aws.sqs.approximate_age_of_oldest_message{${local.queue}} > ${var.oldest_message_age_seconds}"
      critical = var.oldest_message_age_seconds
      warning  = null
      delay    = 900
      priority = 2
      runbook  = <<-EOT
        The oldest message of ${var.queue_name} is older than ${var.oldest_message_age_seconds} s: the dispatcher is not keeping up or
        not running. (Retries after the third receive drop out of this metric, so long retry
        delays do not raise it.)
        - Lambda invocations near zero: the event source mapping is disabled or failing
          (`aws lambda list-event-source-mappings`), or the function cannot start (its errors).
        - Concurrency at its reserved limit with a growing backlog: raise
          lambda_reserved_concurrency and lambda_maximum_concurrency in the environment's tfvars.
        - One slow endpoint holds only its own messages; a backlog across endpoints is the
          dispatcher.
      EOT
    }

    lambda_errors = {
      name     = "[${var.environment}] dispatch Lambda ${var.function_name}: invocation errors"
      query    = "sum(last_5m):sum:aws.lambda.errors{${local.lambda}}.as_count() > 0"
      critical = 0
      warning  = null
      delay    = 900
      priority = 2
      runbook  = <<-EOT
        ${var.function_name} failed invocations. A failed delivery is a batch item failure, never an
        invocation error, so this is a crash, a timeout or a misconfiguration (an undecryptable
        environment, an unreachable database).
        - CloudWatch Logs of the function: the last lines before `Task timed out` or the panic.
        - After a release: `infra/pipeline/release.sh rollback <env>` puts the previous release
          back, its Lambda included when it reads what the API writes.
        - The batch's messages come back after the visibility timeout; repeated failures end in
          the DLQ.
      EOT
    }

    lambda_throttles = {
      name     = "[${var.environment}] dispatch Lambda ${var.function_name}: throttled"
      query    = "sum(last_15m):sum:aws.lambda.throttles{${local.lambda}}.as_count() > 0"
      critical = 0
      warning  = null
      delay    = 900
      priority = 3
      runbook  = <<-EOT
        ${var.function_name} was throttled. The event source mapping's maximum_concurrency stays at or
        below the reserved concurrency, so throttles mean the two no longer agree or something
        else invokes the function.
        - Compare lambda_maximum_concurrency with lambda_reserved_concurrency in the environment's
          tfvars, and the function's configuration in the console.
        - Throttled messages return to the queue; watch the oldest message age.
      EOT
    }

    db_lock_conflicts = {
      name     = "[${var.environment}] database: lock conflicts run again above ${var.lock_conflicts_per_10m} in 10 minutes"
      query    = "sum(last_10m):sum:mechanica.database_lock_conflicts.count{${local.env}}.as_count() > ${var.lock_conflicts_per_10m}"
      critical = var.lock_conflicts_per_10m
      warning  = var.lock_conflicts_per_10m / 5
      delay    = 0
      priority = 3
      runbook  = <<-EOT
        Statements or transactions the database rolled back for a deadlock or a lock wait timeout
        and that were run again: more than ${var.lock_conflicts_per_10m} in 10 minutes. Each is retried up to 5 times, so clients
        mostly see latency, not errors, until retries run out.
        - PlanetScale Insights: the query patterns with lock waits and their tables.
        - Hot rows: many changes to one order or one endpoint at once (a client retry storm),
          or retention pruning during peak traffic.
        - Correlate with the latency monitor and the 5xx share.
      EOT
    }

    db_pool_in_use = {
      name     = "[${var.environment}] orders-api on {{host.name}}: database pool above 90 % in use"
      query    = "avg(last_10m):100 * avg:mechanica.db_pool_connections{${local.env},state:in_use} by {host} / ${var.db_pool_size} > 90"
      critical = 90
      warning  = 75
      delay    = 0
      priority = 3
      runbook  = <<-EOT
        On {{host.name}} more than 90 % of the ${var.db_pool_size} pool connections have been in use for 10 minutes: requests
        queue for a connection.
        - Slow queries hold connections: PlanetScale query latency and Insights.
        - Lock conflicts hold them while they wait: the lock conflicts monitor.
        - Sustained load: raise DATABASE_MAX_CONNECTIONS (mind PlanetScale's connection limit
          across both colours, the relay and the Lambda's concurrency).
      EOT
    }

    api_cpu = {
      name     = "[${var.environment}] API instance {{host.name}}: CPU above ${var.cpu_percent} %"
      query    = "avg(last_15m):100 - avg:system.cpu.idle{${local.api}} by {host} > ${var.cpu_percent}"
      critical = var.cpu_percent
      warning  = var.cpu_percent - 15
      delay    = 0
      priority = 3
      runbook  = <<-EOT
        {{host.name}} has been more than ${var.cpu_percent} % busy for 15 minutes.
        - Only the live colour serves traffic; the idle one should be near 0 %.
        - Burstable instances (t3) slow down once their CPU credits are spent: look at
          aws.ec2.cpucredit_balance for the instance.
        - Request rate by route: a traffic spike or one expensive route.
        - Sustained: a larger instance_type in the environment's tfvars (apply, then replace the
          idle colour's instance and release onto it).
      EOT
    }
  }
}

resource "datadog_monitor" "this" {
  for_each = local.monitors

  name     = each.value.name
  type     = "query alert"
  query    = each.value.query
  message  = "${trimspace(each.value.runbook)}\n\n${var.notify}"
  priority = each.value.priority

  monitor_thresholds {
    critical = each.value.critical
    warning  = each.value.warning
  }

  # The AWS integration's CloudWatch metrics arrive minutes late.
  evaluation_delay    = each.value.delay
  require_full_window = false
  notify_no_data      = false
  renotify_interval   = 60
  include_tags        = true
  tags                = concat(["env:${var.environment}", "service:mechanica"], var.tags)
}
