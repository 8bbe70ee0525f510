//! Dependency order between services: cycle detection and stop waves.

use std::collections::{BTreeMap, BTreeSet};

/// `graph` maps a service to the services it depends on. Returns a cycle (first service
/// repeated at the end) if there is one.
pub(super) fn find_cycle(graph: &BTreeMap<String, Vec<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, Vec<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(pos) = path.iter().position(|p| p == node) {
            let mut cycle = path[pos..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for dep in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(dep, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for node in graph.keys() {
        if let Some(cycle) = visit(node, graph, &mut Vec::new(), &mut done) {
            return Some(cycle);
        }
    }
    None
}

/// Splits `services` into waves to stop one after the other: a service is stopped only after
/// every service depending on it. Cycles (not loadable, but be safe) end up in the last wave.
pub(super) fn stop_waves(
    graph: &BTreeMap<String, Vec<String>>,
    services: &[String],
) -> Vec<Vec<String>> {
    let mut left: BTreeSet<String> = services.iter().cloned().collect();
    let mut waves = Vec::new();
    while !left.is_empty() {
        let needed: BTreeSet<&String> = left
            .iter()
            .flat_map(|s| graph.get(s).into_iter().flatten())
            .collect();
        let wave: Vec<String> = left
            .iter()
            .filter(|s| !needed.contains(s))
            .cloned()
            .collect();
        let wave = if wave.is_empty() {
            left.iter().cloned().collect()
        } else {
            wave
        };
        for s in &wave {
            left.remove(s);
        }
        waves.push(wave);
    }
    waves
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        edges
            .iter()
            .map(|(s, deps)| (s.to_string(), deps.iter().map(|d| d.to_string()).collect()))
            .collect()
    }

    #[test]
    fn finds_cycles() {
        assert_eq!(
            find_cycle(&graph(&[("a", &["b"]), ("b", &["c"]), ("c", &[])])),
            None
        );
        assert_eq!(
            find_cycle(&graph(&[("a", &["b"]), ("b", &["a"])])),
            Some(vec!["a".to_string(), "b".into(), "a".into()])
        );
    }

    #[test]
    fn dependents_stop_first() {
        let g = graph(&[
            ("api", &["db"]),
            ("web", &["api"]),
            ("db", &[]),
            ("log", &[]),
        ]);
        let all: Vec<String> = ["api", "db", "log", "web"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let waves = stop_waves(&g, &all);
        assert_eq!(
            waves,
            vec![
                vec!["log".to_string(), "web".into()],
                vec!["api".into()],
                vec!["db".into()]
            ]
        );
    }
}
