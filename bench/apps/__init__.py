"""The servers the harness runs beside the portal: a static responder, the bare ceiling, the peer."""
