"""paygate core layer: models, state machine, signing, provider adapters, storage, events.

Inside Lambda (`AWS_LAMBDA_FUNCTION_NAME` set) importing the layer pauses Python's cyclic
garbage collector until the function's handler is built (`paygate.startup.ready`, called by
the route and trigger shapes): a cold start creates many long-lived objects (modules, pydantic
models, Powertools' resolver) and collections over them cost the Paypro webhook's cold init
about 2% of its CPU (`python -m bench.cold_variants`, docs/performance.md). `ready` then
freezes what the import made (`gc.freeze`: later collections skip it) and resumes
collecting."""

import gc as _gc
import os as _os

_paused_at_import = bool(_os.environ.get("AWS_LAMBDA_FUNCTION_NAME")) and _gc.isenabled()
if _paused_at_import:
    _gc.disable()
