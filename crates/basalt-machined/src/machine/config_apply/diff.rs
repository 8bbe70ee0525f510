//! A readable line diff of two YAML texts (unified style, 3 lines of context).

/// Largest `old lines × new lines` compared line by line; larger inputs get a summary.
const MAX_CELLS: usize = 4_000_000;

/// Lines of context around each change.
const CONTEXT: usize = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Keep,
    Remove,
    Add,
}

/// The diff of `old` and `new` (`--- old_name` / `+++ new_name`, `@@ -a +b @@` hunks);
/// empty when they are equal.
pub fn unified(old: &str, new: &str, old_name: &str, new_name: &str) -> String {
    if old == new {
        return String::new();
    }
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut out = format!("--- {old_name}\n+++ {new_name}\n");
    if a.len().saturating_mul(b.len()) > MAX_CELLS {
        out.push_str(&format!(
            "(too large for a line diff: {} lines before, {} after)\n",
            a.len(),
            b.len()
        ));
        return out;
    }
    let script = edit_script(&a, &b);
    let changed: Vec<usize> = script
        .iter()
        .enumerate()
        .filter(|(_, (op, _))| *op != Op::Keep)
        .map(|(i, _)| i)
        .collect();
    let mut i = 0;
    while i < changed.len() {
        // grow a hunk while the next change is within 2 × CONTEXT lines
        let start = changed[i].saturating_sub(CONTEXT);
        let mut last = changed[i];
        while i + 1 < changed.len() && changed[i + 1] <= last + 2 * CONTEXT {
            i += 1;
            last = changed[i];
        }
        let end = (last + CONTEXT + 1).min(script.len());
        let (old_line, new_line) = positions(&script[..start]);
        out.push_str(&format!("@@ -{} +{} @@\n", old_line + 1, new_line + 1));
        for (op, line) in &script[start..end] {
            let sign = match op {
                Op::Keep => ' ',
                Op::Remove => '-',
                Op::Add => '+',
            };
            out.push(sign);
            out.push_str(line);
            out.push('\n');
        }
        i += 1;
    }
    out
}

/// Old and new line counts consumed by `prefix`.
fn positions(prefix: &[(Op, &str)]) -> (usize, usize) {
    prefix.iter().fold((0, 0), |(o, n), (op, _)| match op {
        Op::Keep => (o + 1, n + 1),
        Op::Remove => (o + 1, n),
        Op::Add => (o, n + 1),
    })
}

/// A shortest edit script from the longest common subsequence table.
fn edit_script<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(Op, &'a str)> {
    let (n, m) = (a.len(), b.len());
    // lcs[i][j] = LCS length of a[i..] and b[j..]
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i] == b[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let mut script = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if a[i] == b[j] {
            script.push((Op::Keep, a[i]));
            i += 1;
            j += 1;
        } else if lcs[at(i + 1, j)] >= lcs[at(i, j + 1)] {
            script.push((Op::Remove, a[i]));
            i += 1;
        } else {
            script.push((Op::Add, b[j]));
            j += 1;
        }
    }
    script.extend(a[i..].iter().map(|l| (Op::Remove, *l)));
    script.extend(b[j..].iter().map(|l| (Op::Add, *l)));
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_texts_have_no_diff() {
        assert_eq!(unified("a\nb\n", "a\nb\n", "x", "y"), "");
    }

    #[test]
    fn one_changed_line_with_context() {
        let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
        let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
        let d = unified(old, new, "current", "new");
        assert_eq!(
            d,
            "--- current\n+++ new\n@@ -2 +2 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n"
        );
    }

    #[test]
    fn distant_changes_make_two_hunks() {
        let old: String = (0..30).map(|i| format!("{i}\n")).collect();
        let new: String = (0..30)
            .map(|i| match i {
                2 => "two\n".to_string(),
                25 => "x\n".to_string(),
                i => format!("{i}\n"),
            })
            .collect();
        let d = unified(&old, &new, "a", "b");
        assert_eq!(d.matches("@@ -").count(), 2, "{d}");
        assert!(
            d.contains("+two") && d.contains("-25") && d.contains("+x"),
            "{d}"
        );
    }
}
