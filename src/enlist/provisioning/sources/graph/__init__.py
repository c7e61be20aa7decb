"""Microsoft Entra ID read through Microsoft Graph: app-only auth, delta rounds, throttling.

`graph_reader(settings)` is the `SourceReader` the framework registers for `--kind graph`.
Modules: `settings` (what a source is configured with), `auth` (client-credentials tokens),
`client` (HTTP with retries and pacing), `mapping` (Graph items to records, pure), `scope`
(groups or assignments), `batch` (managers by `$batch`), `reading` (a round), `reader`.
"""

from enlist.provisioning.sources.graph.reader import GraphReader, graph_reader
from enlist.provisioning.sources.graph.settings import Certificate, GraphSettings

__all__ = ["Certificate", "GraphReader", "GraphSettings", "graph_reader"]
