output "dashboard_url" {
  description = "Path of the dashboard in the Datadog app."
  value       = datadog_dashboard_json.service.url
}

output "monitor_ids" {
  description = "Monitor ids by key."
  value       = { for key, monitor in datadog_monitor.this : key => monitor.id }
}
