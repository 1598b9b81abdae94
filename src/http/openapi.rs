//! The API description: `openapi.yaml` beside this module, written by hand (OpenAPI 3.1) and
//! served at `GET /openapi.yaml`.
//!
//! Hand-written so it says what a reader needs (who may call what, which status means what), it
//! is held to the code by a test: the routes registered in `mod.rs`, `web.rs`, `web/console.rs`,
//! `web/dashboard.rs`, `interop.rs` and the Telegram webhook (at its configured path's default)
//! are read from their source, and every route with each of its methods must be documented, and
//! nothing else; every `$ref` must resolve; every operation that takes a bearer
//! token must say what 401 means.

use axum::http::header;
use axum::response::IntoResponse;

const OPENAPI_YAML: &str = include_str!("openapi.yaml");

pub async fn document() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "application/yaml"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        OPENAPI_YAML,
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use yaml_rust2::{Yaml, YamlLoader};

    use super::OPENAPI_YAML;

    /// The files that register routes: the router and the pages merged into it.
    const ROUTER_SOURCES: [&str; 6] = [
        include_str!("mod.rs"),
        include_str!("web.rs"),
        include_str!("web/console.rs"),
        include_str!("interop.rs"),
        include_str!("web/dashboard.rs"),
        include_str!("../channels/telegram/webhook.rs"),
    ];

    /// Routes whose path comes from config: the expression the source registers, and the path
    /// the document gives for it (the setting's default).
    fn configured_path(call: &str) -> Option<String> {
        let telegram = crate::channels::telegram::TelegramSettings::default().webhook_path;
        [("&t.settings().webhook_path", telegram)]
            .into_iter()
            .find(|(expression, _)| call.starts_with(expression))
            .map(|(_, path)| path)
    }

    const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

    /// `(path, method)` for each `.route("…", get(…).post(…))` in `source`.
    fn routes_in(source: &str) -> Vec<(String, String)> {
        let mut routes = Vec::new();
        for (start, _) in source.match_indices(".route(") {
            let call = source[start + ".route(".len()..].trim_start();
            let path = call
                .strip_prefix('"')
                .and_then(|rest| rest.split('"').next())
                .map(str::to_string)
                .or_else(|| configured_path(call))
                .unwrap_or_else(|| {
                    panic!("a route whose path is neither a literal nor a setting: {call:.60}")
                });
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .map(|(i, _)| i)
                .unwrap();
            let handlers = &call[..end];
            let before = |i: usize| handlers[..i].chars().next_back();
            for method in METHODS {
                let called = handlers
                    .match_indices(&format!("{method}("))
                    .any(|(i, _)| before(i).is_none_or(|c| !c.is_alphanumeric() && c != '_'));
                if called {
                    routes.push((path.clone(), method.to_string()));
                }
            }
        }
        routes
    }

    fn document() -> Yaml {
        let mut docs = YamlLoader::load_from_str(OPENAPI_YAML).unwrap();
        assert_eq!(docs.len(), 1, "openapi.yaml holds one document");
        docs.remove(0)
    }

    fn operations(doc: &Yaml) -> Vec<(String, String, &Yaml)> {
        let paths = doc["paths"].as_hash().unwrap();
        let mut found = Vec::new();
        for (path, item) in paths {
            for (method, operation) in item.as_hash().unwrap() {
                let method = method.as_str().unwrap();
                if METHODS.contains(&method) {
                    found.push((
                        path.as_str().unwrap().to_string(),
                        method.to_string(),
                        operation,
                    ));
                }
            }
        }
        found
    }

    #[test]
    fn every_route_of_the_router_is_documented_and_nothing_else() {
        let registered: BTreeSet<_> = ROUTER_SOURCES.iter().flat_map(|s| routes_in(s)).collect();
        assert!(
            registered.len() > 25,
            "the router's routes were not found: {registered:?}"
        );
        let doc = document();
        let documented: BTreeSet<_> = operations(&doc)
            .into_iter()
            .map(|(path, method, _)| (path, method))
            .collect();

        let missing: Vec<_> = registered.difference(&documented).collect();
        assert!(
            missing.is_empty(),
            "routes missing from openapi.yaml: {missing:?}"
        );
        let stale: Vec<_> = documented.difference(&registered).collect();
        assert!(
            stale.is_empty(),
            "openapi.yaml documents routes the router lacks: {stale:?}"
        );
    }

    #[test]
    fn the_document_is_openapi_3_1_and_every_reference_resolves() {
        let doc = document();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3.1."));
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(refs.len() > 50, "{refs:?}");
        for reference in refs {
            let target = reference
                .strip_prefix("#/")
                .unwrap_or_else(|| panic!("only local references: {reference}"))
                .split('/')
                .fold(&doc, |node, key| &node[key]);
            assert!(!target.is_badvalue(), "{reference} points nowhere");
        }
    }

    #[test]
    fn every_operation_says_what_it_answers_and_token_ones_explain_401() {
        let doc = document();
        for (path, method, operation) in operations(&doc) {
            let responses = operation["responses"]
                .as_hash()
                .unwrap_or_else(|| panic!("{method} {path} lists no responses"));
            let protected = path.starts_with("/api/units")
                || path.starts_with("/api/operator")
                || path.starts_with("/api/admin")
                || path.starts_with("/api/channel");
            assert_eq!(
                !operation["security"].is_badvalue(),
                protected,
                "{method} {path}: bearer security"
            );
            if protected {
                for status in ["401", "403"] {
                    assert!(
                        responses.contains_key(&Yaml::String(status.into())),
                        "{method} {path} does not document {status}"
                    );
                }
            }
        }
    }

    fn collect_refs(node: &Yaml, refs: &mut Vec<String>) {
        match node {
            Yaml::Hash(map) => {
                for (key, value) in map {
                    match (key.as_str(), value.as_str()) {
                        (Some("$ref"), Some(reference)) => refs.push(reference.to_string()),
                        _ => collect_refs(value, refs),
                    }
                }
            }
            Yaml::Array(items) => items.iter().for_each(|item| collect_refs(item, refs)),
            _ => {}
        }
    }
}
