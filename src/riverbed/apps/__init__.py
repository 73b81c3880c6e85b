"""riverbed's apps, each a set of pipelines over the unified log: logwatch, bitcoin, buzz."""
