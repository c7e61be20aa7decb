"""One module per scenario of issue 5; each `run(ctx)` returns its table rows."""
