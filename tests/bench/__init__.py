"""The benchmark harness, smoke-tested at tiny sizes."""
