"""Configuration as code: an application as one document (JSON or YAML), and back.

- `document`: the pure core. `read_document` checks a parsed document key by key and returns an
  `AppDocument` (or `DocumentError` naming the path at fault); `AppDocument.to_data` writes it
  back, key for key, so exporting an imported document gives the same bytes.
- `diff`: what importing a document would change, as readable lines (pure).
- `entra_schema`: what of Entra's exported `synchronizationSchema` maps onto our model (pure).
- `operations`, `entra_import`: export and import against the store, in one transaction; the
  CLI calls these, and the JSON API can call the same.

Reading and writing the text (JSON, YAML with safe loading) and the key checks both services
share are in `enlist.document_shape`.
"""
