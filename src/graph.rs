//! Graphs given as each node's parents (indices): an order where parents
//! come first, and the depth and closure-size limits of a hierarchy.

use crate::limits::Limits;

/// Why a hierarchy is over a limit (see [`check_hierarchy`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HierarchyExcess {
    /// A chain of parents longer than `max_hierarchy_depth`, from the node
    /// where it was found up to the top.
    Depth(Vec<usize>),
    /// More ancestor links than `max_ancestor_links`: the node where the
    /// count went over, its own ancestors, and the count so far.
    Links {
        node: usize,
        own: usize,
        total: usize,
    },
}

/// Checks the depth and the transitive closure's size of a hierarchy given
/// as each node's parents (indices into `parents`; cycles are ignored here,
/// they are reported elsewhere). Linear in the nodes and links for depth;
/// for links, the work stops soon after the limit is passed.
pub(crate) fn check_hierarchy(
    parents: &[Vec<usize>],
    limits: &Limits,
) -> Result<(), HierarchyExcess> {
    use std::collections::HashSet;
    let order = parents_first(parents);
    let count_links = limits.max_ancestor_links != usize::MAX;
    let mut depth: Vec<usize> = vec![0; parents.len()];
    let mut deepest_parent: Vec<Option<usize>> = vec![None; parents.len()];
    let mut ancestors: Vec<HashSet<usize>> =
        vec![HashSet::new(); if count_links { parents.len() } else { 0 }];
    let mut total = 0usize;
    // work guards against many parents that share ancestors (the union is
    // then much more work than its size): Cedar's closure does the same work
    let mut work = 0usize;
    let work_limit = limits.max_ancestor_links.saturating_mul(8);
    for &node in &order {
        let Some(node_parents) = parents.get(node) else {
            continue;
        };
        let mut best: Option<(usize, usize)> = None;
        for &parent in node_parents {
            let d = depth.get(parent).copied().unwrap_or(0) + 1;
            if best.is_none_or(|(b, _)| d > b) {
                best = Some((d, parent));
            }
        }
        if let Some((d, parent)) = best {
            if let Some(slot) = depth.get_mut(node) {
                *slot = d;
            }
            if let Some(slot) = deepest_parent.get_mut(node) {
                *slot = Some(parent);
            }
            if d > limits.max_hierarchy_depth {
                let mut chain = vec![node];
                let mut at = node;
                while let Some(Some(up)) = deepest_parent.get(at) {
                    chain.push(*up);
                    at = *up;
                }
                return Err(HierarchyExcess::Depth(chain));
            }
        }
        if !count_links || node_parents.is_empty() {
            continue;
        }
        let mut own: HashSet<usize> = HashSet::new();
        for &parent in node_parents {
            own.insert(parent);
            work += 1;
            if let Some(above) = ancestors.get(parent) {
                work += above.len();
                own.extend(above.iter().copied());
            }
            if total + own.len() > limits.max_ancestor_links || work > work_limit {
                return Err(HierarchyExcess::Links {
                    node,
                    own: own.len(),
                    total: total + own.len(),
                });
            }
        }
        total += own.len();
        if let Some(slot) = ancestors.get_mut(node) {
            *slot = own;
        }
    }
    Ok(())
}

/// The nodes in an order where every node comes after its parents
/// (iterative depth-first search; edges that close a cycle are skipped).
pub(crate) fn parents_first(parents: &[Vec<usize>]) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; parents.len()];
    let mut order = Vec::with_capacity(parents.len());
    for start in 0..parents.len() {
        if marks.get(start) != Some(&Mark::New) {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        if let Some(mark) = marks.get_mut(start) {
            *mark = Mark::Open;
        }
        while let Some((node, next)) = path.last_mut() {
            let node = *node;
            match parents.get(node).and_then(|p| p.get(*next)) {
                Some(&parent) => {
                    *next += 1;
                    if marks.get(parent) == Some(&Mark::New) {
                        if let Some(mark) = marks.get_mut(parent) {
                            *mark = Mark::Open;
                        }
                        path.push((parent, 0));
                    }
                }
                None => {
                    if let Some(mark) = marks.get_mut(node) {
                        *mark = Mark::Done;
                    }
                    order.push(node);
                    path.pop();
                }
            }
        }
    }
    order
}

/// A cycle in a graph given as each node's successors, found by an
/// iterative depth-first search from the nodes in order (so the same graph
/// always gives the same cycle), listed from its first node back to it.
pub(crate) fn find_cycle(next: &[Vec<usize>]) -> Option<Vec<usize>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut marks = vec![Mark::New; next.len()];
    for start in 0..next.len() {
        if marks.get(start) != Some(&Mark::New) {
            continue;
        }
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        if let Some(mark) = marks.get_mut(start) {
            *mark = Mark::Open;
        }
        while let Some((node, i)) = path.last_mut() {
            let node = *node;
            match next.get(node).and_then(|n| n.get(*i)) {
                Some(&to) => {
                    *i += 1;
                    match marks.get(to) {
                        Some(Mark::Open) => {
                            let mut cycle: Vec<usize> = path
                                .iter()
                                .map(|&(n, _)| n)
                                .skip_while(|&n| n != to)
                                .collect();
                            cycle.push(to);
                            return Some(cycle);
                        }
                        Some(Mark::New) => {
                            if let Some(mark) = marks.get_mut(to) {
                                *mark = Mark::Open;
                            }
                            path.push((to, 0));
                        }
                        _ => {}
                    }
                }
                None => {
                    if let Some(mark) = marks.get_mut(node) {
                        *mark = Mark::Done;
                    }
                    path.pop();
                }
            }
        }
    }
    None
}
