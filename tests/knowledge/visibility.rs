//! A group-only document never reaches a requester outside its groups, whatever the path:
//! the library search, `ponte ask`, or the HTTP search endpoint. A member does find it.

use crate::common::{
    TestKb, app, copy_dir, encode, get, hit_ids, hits, index_dir, ponte, repo, request, run,
};
use ponte::knowledge::{DocKind, Document, Visibility};
use ponte::lang::Language;

/// A group-only document of the bundled base.
#[derive(Debug)]
struct Restricted {
    id: String,
    kind: DocKind,
    groups: Vec<String>,
    /// Its title (articles) or names (activities), each with its language.
    titles: Vec<(String, Language)>,
}

/// Every restricted document of the bundled base.
fn restricted_documents(fixture: &TestKb) -> Vec<Restricted> {
    let scan = fixture.sources().scan(&mut |_| {}).unwrap();
    let restricted: Vec<_> = scan
        .documents
        .iter()
        .filter_map(|document| {
            let Visibility::Groups(groups) = document.visibility() else {
                return None;
            };
            let titles = match document {
                Document::Article(article) => vec![(article.title.clone(), article.language)],
                Document::Activity(activity) => activity
                    .name
                    .languages()
                    .map(|language| (activity.name.get(language).unwrap().clone(), language))
                    .collect(),
            };
            Some(Restricted {
                id: document.id().to_string(),
                kind: document.kind(),
                groups: groups.clone(),
                titles,
            })
        })
        .collect();
    // The bundled base promises some: server-room-access (it-staff), payroll (hr), ...
    assert!(restricted.len() >= 15, "{restricted:?}");
    for id in ["server-room-access.en", "payroll-system-access.pt-BR"] {
        assert!(restricted.iter().any(|found| found.id == id), "{id}");
    }
    restricted
}

#[test]
fn outsiders_never_get_a_group_only_document_and_members_do() {
    let fixture = TestKb::bundled();
    let all_groups = ["it-staff", "security", "hr", "managers"];
    for Restricted {
        id,
        kind,
        groups: allowed,
        titles,
    } in restricted_documents(&fixture)
    {
        let outsider_groups: Vec<&str> = all_groups
            .iter()
            .copied()
            .filter(|group| !allowed.iter().any(|allowed| allowed == group))
            .collect();
        for (title, language) in &titles {
            for groups in [
                vec![],
                vec!["public"],
                vec!["IT-STAFF", "Hr"],
                outsider_groups.clone(),
            ] {
                for (stated, wanted) in [
                    (Some(*language), None),
                    (None, None),
                    (Some(*language), Some(kind)),
                ] {
                    let mut search = request(title, stated, &groups);
                    search.kind = wanted;
                    search.limit = 100;
                    let found = hits(&fixture.kb, &search);
                    assert!(
                        found.iter().all(|hit| hit.id != id),
                        "{id} reached groups {groups:?} for {title:?}"
                    );
                    search.with_documents = false;
                    let found = hits(&fixture.kb, &search);
                    assert!(found.iter().all(|hit| hit.id != id), "{id} (ids only)");
                }
            }
            // Each allowed group, alone or with others, finds it first among its kind.
            for group in &allowed {
                let mut search = request(title, Some(*language), &[group.as_str(), "other"]);
                search.kind = Some(kind);
                let found = hits(&fixture.kb, &search);
                assert_eq!(
                    found.first().map(|hit| hit.id.as_str()),
                    Some(id.as_str()),
                    "{group} asked {title:?}"
                );
            }
        }
    }
}

#[test]
fn ponte_ask_hides_group_only_articles_from_outsiders() {
    // The bundled articles, one group-only and one public activity (fewer activities keep
    // the matcher that `ask` trains small).
    let knowledge = tempfile::tempdir().unwrap();
    let knowledge_dir = knowledge.path();
    let bundled = repo().join("knowledge-index");
    copy_dir(&bundled.join("articles"), &knowledge_dir.join("articles"));
    std::fs::create_dir_all(knowledge_dir.join("activities")).unwrap();
    for activity in ["server-access.toml", "password-reset.toml"] {
        std::fs::copy(
            bundled.join("activities").join(activity),
            knowledge_dir.join("activities").join(activity),
        )
        .unwrap();
    }
    let data_dir = tempfile::tempdir().unwrap();
    let cwd = tempfile::tempdir().unwrap();
    let ask = |text: &str, groups: Option<&str>, json: bool| {
        let mut command = ponte(cwd.path());
        command
            .arg("--knowledge-dir")
            .arg(knowledge_dir)
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(["ask", text]);
        if let Some(groups) = groups {
            command.args(["--groups", groups]);
        }
        if json {
            command.arg("--json");
        }
        let (output, stdout, stderr) = run(&mut command);
        assert!(output.status.success(), "{stderr}");
        stdout
    };
    let cases = [
        (
            "Server room and data centre access procedure",
            "server-room-access.en",
            "it-staff",
        ),
        (
            "Acesso ao sistema de folha de pagamento",
            "payroll-system-access.pt-BR",
            "hr",
        ),
        (
            "Acceso al sistema de nóminas",
            "payroll-system-access.es",
            "hr",
        ),
    ];
    for (text, id, group) in cases {
        for outsider in [None, Some("managers"), Some("sales,public")] {
            // Neither as a hit nor as a candidate of the assistant's decision, in JSON...
            let stdout = ask(text, outsider, true);
            assert!(!stdout.contains(id), "{outsider:?} got {id}:\n{stdout}");
            let body: serde_json::Value =
                serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
            assert!(
                !body["hits"].to_string().contains(text),
                "{outsider:?} got {text:?}: {body}"
            );
            // ... or as text, which does not echo the question.
            let stdout = ask(text, outsider, false);
            assert!(!stdout.contains(id), "{outsider:?} got {id}:\n{stdout}");
            assert!(
                !stdout.contains(text),
                "{outsider:?} got {text:?}:\n{stdout}"
            );
        }
        for json in [true, false] {
            let stdout = ask(text, Some(&format!("sales,{group}")), json);
            assert!(stdout.contains(id), "{group} did not get {id}:\n{stdout}");
        }
    }
    // A group-only activity: not among the hits nor in what the assistant understood.
    for (groups, visible) in [(None, false), (Some("hr"), false), (Some("it-staff"), true)] {
        let stdout = ask("Server access", groups, true);
        let body: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
        let hit_ids: Vec<&str> = body["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|hit| hit["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            hit_ids.contains(&"server-access"),
            visible,
            "{groups:?}: {hit_ids:?}"
        );
        if !visible {
            let understood = body["decision"]["understanding"].to_string();
            assert!(
                !understood.contains("server-access"),
                "{groups:?}: {understood}"
            );
        }
    }
    // The JSON hits of a member start with it.
    let stdout = ask(cases[0].0, Some("it-staff"), true);
    let body: serde_json::Value = serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
    let articles: Vec<&str> = body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|hit| hit["kind"] == "article")
        .map(|hit| hit["id"].as_str().unwrap())
        .collect();
    assert_eq!(articles.first(), Some(&"server-room-access.en"), "{body}");
    // The index went where --data-dir said.
    assert!(index_dir(data_dir.path()).join("CURRENT").is_file());
}

#[tokio::test]
async fn the_http_search_never_returns_group_only_documents() {
    let fixture = TestKb::bundled();
    let restricted = restricted_documents(&fixture);
    let app = app(fixture.kb);
    for Restricted { id, titles, .. } in &restricted {
        for (title, language) in titles {
            for uri in [
                format!("/api/knowledge/search?q={}&limit=50", encode(title)),
                format!(
                    "/api/knowledge/search?q={}&lang={}&limit=50",
                    encode(title),
                    language.tag()
                ),
            ] {
                let (status, body) = get(&app, &uri).await;
                assert_eq!(status, 200, "{uri}: {body}");
                let found = hit_ids(&body);
                assert!(!found.contains(id), "{uri} returned {id}: {found:?}");
                assert!(
                    !body["hits"].to_string().contains(title.as_str()),
                    "{uri}: {body}"
                );
            }
        }
    }
    // The control: a public article is found the same way.
    let (status, body) = get(
        &app,
        "/api/knowledge/search?q=Reset%20a%20forgotten%20password&lang=en&kind=article",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(hit_ids(&body)[0], "reset-forgotten-password.en", "{body}");
}
