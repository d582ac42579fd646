//! The README and docs/ as a reader meets them: a short front page, and links that lead
//! somewhere.

use super::*;

/// Every Markdown file a reader may open: the README and each page of docs/.
fn pages() -> Vec<std::path::PathBuf> {
    let mut pages = vec![repo().join("README.md")];
    for entry in std::fs::read_dir(repo().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|extension| extension == "md") {
            pages.push(path);
        }
    }
    pages
}

#[test]
fn the_readme_is_a_front_page() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines <= 200,
        "the README has {lines} lines: depth belongs in docs/"
    );
    // Every page of docs/ is on the README's map.
    for page in pages().iter().skip(1) {
        let name = page.file_name().unwrap().to_str().unwrap();
        assert!(
            readme.contains(&format!("(docs/{name})")),
            "the README's map misses docs/{name}"
        );
    }
}

/// A link to a file of this repository (not a web address, not an anchor on the same
/// page) names a file or folder that exists.
#[test]
fn every_link_between_files_leads_somewhere() {
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let folder = page.parent().unwrap();
        for (at, _) in text.match_indices("](") {
            let rest = &text[at + 2..];
            let target = &rest[..rest.find(')').unwrap()];
            if target.starts_with("http") || target.starts_with('#') {
                continue;
            }
            let file = target.split('#').next().unwrap();
            assert!(
                folder.join(file).exists(),
                "{}: the link to {target} leads nowhere",
                page.display()
            );
        }
    }
}
