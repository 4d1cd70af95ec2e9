"""The OpenAPI 3.1 description of the JSON API and the health check, true for the running settings."""

from __future__ import annotations

from typing import Any

import kb
from kb.config import Settings
from kb.content.articles import Visibility
from kb.errors import error_classes
from kb.search.confidence import CONFIDENT
from kb.store.database import LINK_ACTIONS
from web.errors import CODE_OF_STATUS

JSON = "application/json"
# At least one character that is not whitespace; \x1c-\x1f are whitespace to Python but not to ECMAScript.
NOT_BLANK = r"[^\s\x1c-\x1f]"
AGENT_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}]


def schema(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def response(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def strict_object(description: str, properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object the API always sends whole: every field listed, no field beyond them."""
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": [name for name in properties if name not in optional],
        "additionalProperties": False,
    }


def array_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


def json_content(body: dict[str, Any]) -> dict[str, Any]:
    return {JSON: {"schema": body}}


def error_codes(status: int) -> list[str]:
    """The `error.code` values web.errors gives this status: those of the KbError classes that carry it."""
    codes = sorted({kind.code for kind in error_classes() if kind.http_status == status})
    if status in CODE_OF_STATUS:
        codes.append(CODE_OF_STATUS[status])
    return codes


def error_response(status: int, description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """An error answer: the one Error shape, with the codes this status can carry."""
    narrowed = {
        "allOf": [schema("Error"), {"properties": {"error": {"properties": {"code": {"enum": error_codes(status)}}}}}]
    }
    answer: dict[str, Any] = {"description": description, "content": json_content(narrowed)}
    if headers:
        answer["headers"] = headers
    return answer


def header(description: str) -> dict[str, Any]:
    return {"description": description, "schema": {"type": "string"}}


def schemas(settings: Settings) -> dict[str, Any]:
    text = {"type": "string"}
    build = {
        "build": {"type": "string", "description": "Id of the index build served."},
        "built_at": {"type": "string", "format": "date-time"},
        "model": {"type": "string", "description": "Embedding model the index was built with."},
    }
    search_result = {
        "slug": text,
        "title": text,
        "url": {"type": "string", "description": "Site path of the article, with the best section's anchor."},
        "section": {"type": "string", "description": "Title of the best-matching section ('' for the whole article)."},
        "score": {"type": "number", "description": "Relevance; higher is better; only comparable within one answer."},
        "snippet": {"type": "string", "description": "Plain-text passage of the best section."},
        "confidence": {
            "type": "number",
            "minimum": 0,
            "maximum": 1,
            "description": "How sure search is that this article answers the query, on one scale for every "
            f"query; {CONFIDENT} or more is confident.",
        },
        "answers": {
            "type": ["string", "null"],
            "description": "The sentence of a message with several problems that this article answers; "
            "null when it answers the whole text.",
        },
    }
    confident = {
        "type": "boolean",
        "description": "Whether at least one result is confident. When false, the results are only the "
        "closest articles: say that no answer was found and offer to contact support.",
    }
    link = {"slug": text, "title": text, "url": text}
    return {
        "ErrorDetail": strict_object(
            "What went wrong.",
            {
                "code": {"type": "string", "description": "Stable machine-readable code, e.g. invalid_query."},
                "message": {"type": "string", "description": "One human-readable sentence."},
            },
        ),
        "Error": strict_object("The one shape of every API error.", {"error": schema("ErrorDetail")}),
        "SearchResult": strict_object("One article and its best section.", search_result),
        "SearchResponse": strict_object(
            "Public articles for a query, best first.",
            {
                "query": {"type": "string", "description": "The query as searched (whitespace collapsed)."},
                "results": array_of(schema("SearchResult")),
                "search_token": {
                    "type": ["string", "null"],
                    "description": "Names this search in the search log (null when it is off): append "
                    "`?search=TOKEN&result=N` to the URL of result N so that opening it is recorded.",
                },
                "confident": confident,
                "answer_card": {
                    "oneOf": [schema("AnswerCard"), {"type": "null"}],
                    "description": "The section that answers the query, to show inline above the results; null "
                    "unless search is sure of it.",
                },
            },
        ),
        "AnswerCard": strict_object(
            "The section of a public article that answers the query, to show inline.",
            {
                "slug": text,
                "title": {"type": "string", "description": "The article's title."},
                "section": {"type": "string", "description": "The section's title ('' for the article's opening)."},
                "url": {"type": "string", "description": "Site path of the article at the section's anchor."},
                "html": {"type": "string", "description": "The section's body as sanitised HTML, heading left out."},
            },
        ),
        "SuggestResult": strict_object(
            "One article to send, marked public or internal (agents only).",
            {
                **search_result,
                "visibility": {"type": "string", "enum": list(Visibility)},
            },
        ),
        "SuggestResponse": strict_object(
            "Articles to send for a customer's message, best first.",
            {
                "results": array_of(schema("SuggestResult")),
                "confident": confident,
            },
        ),
        "CategoryRef": strict_object(
            "The category an article belongs to.",
            {
                "slug": text,
                "name": text,
                "url": text,
            },
        ),
        "Section": strict_object(
            "A level-2 or level-3 heading of an article.",
            {
                "anchor": text,
                "title": text,
                "level": {"type": "integer", "enum": [2, 3]},
                "url": text,
            },
        ),
        "ArticleLink": strict_object("A related public article.", link),
        "Article": strict_object(
            "A public article, rendered.",
            {
                "slug": text,
                "title": text,
                "url": text,
                "summary": text,
                "category": schema("CategoryRef"),
                "tags": array_of(text),
                "updated": {
                    "type": ["string", "null"],
                    "format": "date",
                    "description": "Date of the last update, if the article gives one.",
                },
                "sections": array_of(schema("Section")),
                "related": array_of(schema("ArticleLink")),
                "html": {"type": "string", "description": "The sanitised article body as HTML."},
            },
        ),
        "Category": strict_object(
            "A category with its number of public articles and what its `_category.yml` says.",
            {
                "slug": text,
                "name": text,
                "description": {
                    "type": "string",
                    "description": "The category's description from its _category.yml; empty when it gives none.",
                },
                "icon": {
                    "type": "string",
                    "description": "A short text (often an emoji) shown before the name; empty when none is given.",
                },
                "order": {
                    "type": ["integer", "null"],
                    "description": "The category's place from its _category.yml (lowest first); null when unordered.",
                },
                "articles": {"type": "integer", "minimum": 1},
                "url": text,
            },
        ),
        "CategoryList": strict_object(
            "Every category that has public articles, in the home page's order: the ordered ones by `order`, "
            "then the rest by name.",
            {
                "categories": array_of(schema("Category")),
            },
        ),
        "SuggestRequest": {
            "type": "object",
            "description": "A customer's whole message; other fields are ignored.",
            "properties": {
                "text": {
                    "type": "string",
                    "pattern": NOT_BLANK,
                    "description": "The message, greetings and all (not only whitespace).",
                },
                "k": {
                    "type": "integer",
                    "minimum": 1,
                    "default": settings.suggest_results,
                    "description": "How many articles to suggest.",
                },
            },
            "required": ["text"],
        },
        "LinkRequest": {
            "type": "object",
            "description": "A link an agent sent (or a suggestion used); other fields are ignored.",
            "properties": {
                "action": {"type": "string", "enum": list(LINK_ACTIONS)},
                "slug": {"type": "string", "description": "The article's current slug."},
                "section": {"type": "string", "description": "Anchor of the section linked, if any."},
                "query": {"type": "string", "description": "The search or message that led to it, if any."},
            },
            "required": ["action", "slug"],
        },
        "LinkRecorded": strict_object("The link event was stored.", {"recorded": {"const": True}}),
        "Health": strict_object("The published index build, served.", {"status": {"const": "ok"}, **build}),
        "HealthDegraded": strict_object(
            "The published build cannot be read: an earlier build is served, and the warning says which.",
            {"status": {"const": "degraded"}, **build, "warning": schema("ErrorDetail")},
        ),
        "HealthUnavailable": strict_object(
            "No usable index: the help center cannot answer.",
            {
                "status": {"const": "unavailable"},
                "error": schema("ErrorDetail"),
            },
        ),
    }


def responses(settings: Settings) -> dict[str, Any]:
    return {
        "BadRequest": error_response(
            400,
            "The request is unusable: a blank or over-long query, a number "
            "of results out of range, or a body that is not the JSON object "
            "described.",
        ),
        "Unauthorized": error_response(
            401, "No valid `Authorization: Bearer TOKEN` header.", {"WWW-Authenticate": header("`Bearer`.")}
        ),
        "NotFound": error_response(404, "No such article (internal and draft articles are not found either)."),
        "MethodNotAllowed": error_response(
            405,
            "Every path answers 405 to a method it does not document.",
            {"Allow": header("The methods this path accepts.")},
        ),
        "RequestTooLarge": error_response(413, f"The request body is over {settings.max_request_bytes} bytes."),
        "UriTooLong": error_response(
            414,
            "The request line is longer than the HTTP server reads (`kb serve` reads up to 8190 bytes; a letter "
            "outside ASCII takes 6 to 12 bytes once percent-encoded). Answered by the server itself.",
        ),
        "Unavailable": error_response(
            503,
            "No usable index is published (or the embedding model cannot be loaded): the help center cannot answer. "
            "Agent operations also answer 503 while the agents' database is unavailable or needs `kb db upgrade`.",
        ),
    }


def paths(settings: Settings) -> dict[str, Any]:
    results_count = {"type": "integer", "minimum": 1, "maximum": settings.max_results}
    return {
        "/api/search": {
            "get": {
                "operationId": "search",
                "summary": "Search the public articles.",
                "tags": ["public"],
                "parameters": [
                    {
                        "name": "q",
                        "in": "query",
                        "required": True,
                        "description": "Question or words; whitespace is collapsed before the length limit applies.",
                        "schema": {"type": "string", "pattern": NOT_BLANK, "maxLength": settings.max_query_length},
                    },
                    {
                        "name": "k",
                        "in": "query",
                        "required": False,
                        "description": "How many results at most.",
                        "schema": {**results_count, "default": settings.default_results},
                    },
                    {
                        "name": "source",
                        "in": "query",
                        "required": False,
                        "description": "Origin for the search log: instant for search as you type.",
                        "schema": {"type": "string", "enum": ["api", "instant"], "default": "api"},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The best articles, each with its best section.",
                        "content": json_content(schema("SearchResponse")),
                    },
                    "400": response("BadRequest"),
                    "414": response("UriTooLong"),
                    "503": response("Unavailable"),
                },
            }
        },
        "/api/articles/{slug}": {
            "get": {
                "operationId": "getArticle",
                "summary": "One public article.",
                "tags": ["public"],
                "parameters": [{"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The article.", "content": json_content(schema("Article"))},
                    "301": {
                        "description": "The slug is an old name of an article: Location gives its current URL.",
                        "headers": {
                            "Location": {
                                "description": "The article's current API path.",
                                "schema": {"type": "string", "format": "uri-reference"},
                            }
                        },
                    },
                    "404": response("NotFound"),
                    "414": response("UriTooLong"),
                    "503": response("Unavailable"),
                },
            }
        },
        "/api/categories": {
            "get": {
                "operationId": "listCategories",
                "summary": "The categories that have public articles.",
                "tags": ["public"],
                "responses": {
                    "200": {"description": "The categories.", "content": json_content(schema("CategoryList"))},
                    "503": response("Unavailable"),
                },
            }
        },
        "/api/suggest": {
            "post": {
                "operationId": "suggest",
                "summary": "Articles to send in answer to a customer's message (agents; internal articles too).",
                "tags": ["agents"],
                "security": AGENT_SECURITY,
                "requestBody": {
                    "required": True,
                    "content": json_content(
                        {
                            "allOf": [
                                schema("SuggestRequest"),
                                {
                                    "properties": {
                                        "text": {"maxLength": settings.max_message_length},
                                        "k": results_count,
                                    },
                                },
                            ]
                        }
                    ),
                },
                "responses": {
                    "200": {
                        "description": "The suggested articles.",
                        "content": json_content(schema("SuggestResponse")),
                    },
                    "400": response("BadRequest"),
                    "401": response("Unauthorized"),
                    "413": response("RequestTooLarge"),
                    "503": response("Unavailable"),
                },
            }
        },
        "/api/links": {
            "post": {
                "operationId": "recordLink",
                "summary": "Record that an agent sent a link, for the most-linked report (agents).",
                "tags": ["agents"],
                "security": AGENT_SECURITY,
                "requestBody": {"required": True, "content": json_content(schema("LinkRequest"))},
                "responses": {
                    "201": {"description": "Recorded.", "content": json_content(schema("LinkRecorded"))},
                    "400": response("BadRequest"),
                    "401": response("Unauthorized"),
                    "404": response("NotFound"),
                    "413": response("RequestTooLarge"),
                    "503": response("Unavailable"),
                },
            }
        },
        "/healthz": {
            "get": {
                "operationId": "health",
                "summary": "Whether the help center can answer, and which index build is live.",
                "tags": ["health"],
                "responses": {
                    "200": {
                        "description": "Serving: the published build, or an earlier one while it cannot be read.",
                        "content": json_content({"oneOf": [schema("Health"), schema("HealthDegraded")]}),
                    },
                    "503": {"description": "No usable index.", "content": json_content(schema("HealthUnavailable"))},
                },
            }
        },
    }


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every JSON route, with the limits of `settings`."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": settings.site_name,
            "version": kb.__version__,
            "description": "Search and read the public help center; agents suggest articles and record links "
            'with a Bearer token. Every error is `{"error": {"code", "message"}}` '
            "(see the Error schema); every path answers 405 MethodNotAllowed to other methods.",
        },
        "servers": [{"url": "/"}],
        "tags": [
            {"name": "public", "description": "Anyone: public, published articles only."},
            {"name": "agents", "description": "Support agents, with `Authorization: Bearer TOKEN`."},
            {"name": "health", "description": "For load balancers and monitoring."},
        ],
        "paths": paths(settings),
        "components": {
            "schemas": schemas(settings),
            "responses": responses(settings),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An agent's API token (`kb_...`), shown once when the agent is created.",
                }
            },
        },
    }
