//! The committed docs are what the generator writes, and they document every schema attribute with exactly the
//! schema's description.
//!
//! The second check reads the committed pages (what users see), not the generator's output, and parses them on its
//! own, so a bug in the generator's list rendering cannot hide a missing or altered description.

use std::collections::BTreeMap;
use std::path::PathBuf;

use eksidentity::docgen::{self, Registry};
use eksidentity::schema::{Attribute, Block, Schema};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn committed_docs_are_what_make_docs_writes() {
    let files = docgen::render_all(&root(), &Registry::current()).unwrap_or_else(|e| panic!("docs generator: {e}"));
    let diffs = docgen::differences(&root(), &files).expect("compare docs");
    assert!(diffs.is_empty(), "docs/ is out of date: run `make docs` and commit the result.\n{}", diffs.join("\n"));
}

/// One `* `name` - (labels) text` item of a reference section.
#[derive(Debug)]
struct Item {
    labels: Vec<String>,
    text: String,
}

/// Items of the `## Argument Reference` / `## Attribute Reference` sections, keyed by (block, name); block is ""
/// for the root and the nested block's name under a `### <name> block` heading.
type Items = BTreeMap<(String, String), Vec<Item>>;

fn reference_items(page: &str) -> Items {
    let mut out = Items::new();
    let mut in_reference = false;
    let mut block = String::new();
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            in_reference = heading == "Argument Reference" || heading == "Attribute Reference";
            block.clear();
            continue;
        }
        if let Some(heading) = line.strip_prefix("### ") {
            if in_reference {
                block = heading.strip_suffix(" block").unwrap_or_else(|| panic!("unexpected heading {line}")).into();
            }
            continue;
        }
        if !in_reference {
            continue;
        }
        let Some(rest) = line.strip_prefix("* `") else { continue };
        let (name, rest) = rest.split_once("` - (").unwrap_or_else(|| panic!("malformed item: {line}"));
        let (labels, text) = rest.split_once(") ").unwrap_or_else(|| panic!("malformed item: {line}"));
        out.entry((block.clone(), name.to_string()))
            .or_default()
            .push(Item { labels: labels.split(", ").map(str::to_string).collect(), text: text.to_string() });
    }
    out
}

/// What an attribute's item must say: its description, then each validator's sentence.
fn expected_text(a: &Attribute) -> String {
    let mut text = a.description.trim().to_string();
    for v in &a.validators {
        text.push(' ');
        text.push_str(&v.description());
    }
    text
}

/// Problems with one attribute's entry, as sentences.
fn check_attribute(items: &Items, block: &str, a: &Attribute, page: &str) -> Vec<String> {
    let shown = if block.is_empty() { a.name.clone() } else { format!("{block}.{}", a.name) };
    let Some(found) = items.get(&(block.to_string(), a.name.clone())) else {
        return vec![format!("{page}: `{shown}` is not documented")];
    };
    if found.len() != 1 {
        return vec![format!("{page}: `{shown}` is documented {} times", found.len())];
    }
    let item = &found[0];
    let mut problems = Vec::new();
    let description = a.description.trim();
    if description.is_empty() {
        problems.push(format!("`{shown}` has no description in the schema"));
    }
    if !item.text.starts_with(description) {
        problems.push(format!(
            "{page}: the description of `{shown}` differs from the schema's\n  page:   {}\n  schema: {description}",
            item.text
        ));
    } else if item.text != expected_text(a) {
        problems.push(format!(
            "{page}: `{shown}` must read as its description then its validators' sentences\n  page:     {}\n  expected: {}",
            item.text,
            expected_text(a)
        ));
    }
    for (flag, label) in [(a.required, "Required"), (a.optional, "Optional"), (a.computed, "Computed")] {
        if item.labels.iter().any(|l| l == label) != flag {
            problems.push(format!("{page}: `{shown}` labels {:?} disagree with the schema on {label}", item.labels));
        }
    }
    problems
}

/// Checks every attribute and nested block of `block`; returns how many entries were checked.
fn check_block(items: &Items, name: &str, block: &Block, page: &str, problems: &mut Vec<String>) -> usize {
    let mut n = 0;
    for a in &block.attributes {
        problems.extend(check_attribute(items, name, a, page));
        n += 1;
    }
    for nested in &block.blocks {
        n += 1;
        match items.get(&(name.to_string(), nested.name.clone())).map(Vec::as_slice) {
            Some([item]) if item.text.starts_with(nested.block.description.trim()) => {}
            Some([_]) => problems.push(format!("{page}: the description of block `{}` differs", nested.name)),
            _ => problems.push(format!("{page}: block `{}` is not documented exactly once", nested.name)),
        }
        n += check_block(items, &nested.name, &nested.block, page, problems);
    }
    n
}

/// Every attribute and nested block of `schema` is in `text` exactly once, with the schema's description, and the
/// page documents nothing the schema does not have. Returns how many entries were checked, and the problems.
fn check_page(page: &str, text: &str, schema: &Schema) -> (usize, Vec<String>) {
    let items = reference_items(text);
    let mut problems = Vec::new();
    let checked = check_block(&items, "", &schema.block, page, &mut problems);

    fn names(block_name: &str, b: &Block, out: &mut Vec<(String, String)>) {
        out.extend(b.attributes.iter().map(|a| (block_name.to_string(), a.name.clone())));
        for nb in &b.blocks {
            out.push((block_name.to_string(), nb.name.clone()));
            names(&nb.name, &nb.block, out);
        }
    }
    let mut known = Vec::new();
    names("", &schema.block, &mut known);
    for key in items.keys().filter(|k| !known.contains(k)) {
        problems.push(format!("{page} documents `{}` in block `{}`, which the schema does not have", key.1, key.0));
    }
    (checked, problems)
}

fn read_page(page: &str) -> String {
    std::fs::read_to_string(root().join(page)).unwrap_or_else(|e| panic!("{page}: {e} (run `make docs`)"))
}

#[test]
fn resource_page_documents_every_attribute_with_the_schema_description() {
    let registry = Registry::current();
    let schema = &registry.resources["eksidentity_service_account_role"];
    let page = "docs/resources/service_account_role.md";
    let (checked, problems) = check_page(page, &read_page(page), schema);
    assert!(problems.is_empty(), "{}\n(edit the schema or the template, then run `make docs`)", problems.join("\n"));
    let expected =
        schema.block.attributes.len() + schema.block.blocks.iter().map(|b| 1 + b.block.attributes.len()).sum::<usize>();
    assert_eq!(checked, expected);
    assert!(schema.block.find_block("timeouts").is_some_and(|t| t.block.attributes.len() == 3));
}

#[test]
fn provider_page_documents_every_argument_with_the_schema_description() {
    let registry = Registry::current();
    let page = "docs/index.md";
    let (checked, problems) = check_page(page, &read_page(page), &registry.provider);
    assert!(problems.is_empty(), "{}\n(edit the schema or the template, then run `make docs`)", problems.join("\n"));
    assert!(checked >= 8, "only {checked} provider entries checked");
}

#[test]
fn every_resource_type_has_a_page() {
    for type_name in Registry::current().resources.keys() {
        let short = type_name.strip_prefix("eksidentity_").unwrap_or(type_name);
        let page = root().join(format!("docs/resources/{short}.md"));
        assert!(
            page.exists(),
            "{type_name} has no page at {} (add templates/resources/{short}.md.tmpl)",
            page.display()
        );
    }
}

/// The page check must notice a changed description, a missing nested attribute and an undocumented extra;
/// otherwise passing it proves nothing.
#[test]
fn the_page_check_catches_altered_missing_and_extra_entries() {
    let registry = Registry::current();
    let schema = &registry.resources["eksidentity_service_account_role"];
    let page = "docs/resources/service_account_role.md";
    let text = read_page(page);

    let mode = schema.block.find_attribute("mode").unwrap();
    let altered = text.replacen(mode.description.trim(), "Something else.", 1);
    assert_ne!(altered, text);
    let (_, problems) = check_page(page, &altered, schema);
    assert!(problems.iter().any(|p| p.contains("description of `mode` differs")), "{problems:?}");

    let dropped: String = text.lines().filter(|l| !l.starts_with("* `create` - ")).map(|l| format!("{l}\n")).collect();
    let (_, problems) = check_page(page, &dropped, schema);
    assert_eq!(problems, vec![format!("{page}: `timeouts.create` is not documented")]);

    let extra = text.replacen("* `mode` - ", "* `mood` - (Optional, String) Not in the schema.\n* `mode` - ", 1);
    let (_, problems) = check_page(page, &extra, schema);
    assert!(problems.iter().any(|p| p.contains("`mood`")), "{problems:?}");

    let relabelled = text.replacen("* `mode` - (Required, ", "* `mode` - (Optional, ", 1);
    let (_, problems) = check_page(page, &relabelled, schema);
    assert!(problems.iter().any(|p| p.contains("`mode` labels")), "{problems:?}");
}

/// The README's configuration snippets are slices of files under examples/, which the acceptance tests apply, so
/// they cannot rot unnoticed.
#[test]
fn readme_terraform_snippets_come_from_examples() {
    fn tf_files(dir: &std::path::Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap().map(Result::unwrap) {
            let path = entry.path();
            if path.is_dir() {
                tf_files(&path, out);
            } else if path.extension().is_some_and(|x| x == "tf") {
                out.push(std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut examples = Vec::new();
    tf_files(&root().join("examples"), &mut examples);
    let readme = read_page("README.md");
    let mut snippets = 0;
    for block in readme.split("```terraform\n").skip(1) {
        let snippet = block.split("```").next().unwrap();
        assert!(
            examples.iter().any(|e| e.contains(snippet)),
            "README.md has a terraform snippet that is not part of any file under examples/:\n{snippet}"
        );
        snippets += 1;
    }
    assert!(snippets >= 1, "README.md shows no configuration");
}
