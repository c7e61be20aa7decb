"""The notification core both services share (ADR 0033): the quiet-period rule and one delivery
attempt by mail (SMTP) or signed webhook. What raises an alert, the outbox tables and the sender
that claims their rows stay with each service (`enlist.provisioning.notify`)."""
