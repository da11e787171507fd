//! Depth-first traversal of a plan tree, with each node's depth and parent,
//! and the questions asked of a whole tree (worst estimate, indexes used).

use super::node::{Misestimate, PlanNode};

/// A node met by [`PlanNode::walk`].
#[derive(Clone, Copy, Debug)]
pub struct NodeRef<'a> {
    pub node: &'a PlanNode,
    /// Position in the walk (pre-order): 0 is the root.
    pub index: usize,
    /// 0 for the root.
    pub depth: usize,
    /// Walk index of the parent node.
    pub parent: Option<usize>,
}

/// Every node of a tree in depth-first pre-order (a node before its
/// children, children in plan order), the way EXPLAIN prints them.
#[derive(Clone, Debug)]
pub struct PlanWalk<'a> {
    nodes: Vec<NodeRef<'a>>,
}

impl PlanNode {
    /// Walks the tree without recursion, so any depth is safe.
    pub fn walk(&self) -> PlanWalk<'_> {
        let mut nodes = Vec::new();
        let mut stack: Vec<(&PlanNode, usize, Option<usize>)> = vec![(self, 0, None)];
        while let Some((node, depth, parent)) = stack.pop() {
            let index = nodes.len();
            nodes.push(NodeRef {
                node,
                index,
                depth,
                parent,
            });
            for child in node.plans.iter().rev() {
                stack.push((child, depth + 1, Some(index)));
            }
        }
        PlanWalk { nodes }
    }
}

impl<'a> PlanWalk<'a> {
    pub fn iter(&self) -> impl Iterator<Item = NodeRef<'a>> + '_ {
        self.nodes.iter().copied()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn get(&self, index: usize) -> Option<NodeRef<'a>> {
        self.nodes.get(index).copied()
    }

    pub fn parent(&self, node: NodeRef<'a>) -> Option<NodeRef<'a>> {
        self.get(node.parent?)
    }

    /// Parent, grandparent, … up to the root.
    pub fn ancestors(&self, node: NodeRef<'a>) -> impl Iterator<Item = NodeRef<'a>> + '_ {
        std::iter::successors(self.parent(node), move |n| self.parent(*n))
    }

    /// The node's children, in plan order.
    pub fn children(&self, node: NodeRef<'a>) -> impl Iterator<Item = NodeRef<'a>> + '_ {
        self.descendants(node)
            .filter(move |d| d.depth == node.depth + 1)
    }

    /// Every node below `node`, depth-first.
    pub fn descendants(&self, node: NodeRef<'a>) -> impl Iterator<Item = NodeRef<'a>> + '_ {
        self.nodes[node.index + 1..]
            .iter()
            .copied()
            .take_while(move |d| d.depth > node.depth)
    }

    /// The node with the largest row misestimate (ties: the first in walk
    /// order). `None` without EXPLAIN ANALYZE numbers.
    pub fn worst_estimate(&self) -> Option<(NodeRef<'a>, Misestimate)> {
        let mut worst: Option<(NodeRef<'a>, Misestimate)> = None;
        for node in self.iter() {
            if let Some(m) = node.node.misestimate()
                && worst.is_none_or(|(_, w)| m.factor > w.factor)
            {
                worst = Some((node, m));
            }
        }
        worst
    }

    /// The names of the indexes the plan reads, sorted, each once.
    pub fn indexes_used(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .iter()
            .filter_map(|n| n.node.index_name.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The relation a node is about: its own, or for a Bitmap Index Scan
    /// (which names only its index) the Bitmap Heap Scan above it.
    pub fn relation_of(&self, node: NodeRef<'a>) -> Option<&'a PlanNode> {
        if node.node.relation_name.is_some() {
            return Some(node.node);
        }
        if node.node.node_type != "Bitmap Index Scan" {
            return None;
        }
        self.ancestors(node)
            .take_while(|a| {
                a.node.relation_name.is_some() || a.node.node_type.starts_with("Bitmap")
            })
            .find(|a| a.node.relation_name.is_some())
            .map(|a| a.node)
    }
}

impl<'a, 'w> IntoIterator for &'w PlanWalk<'a> {
    type Item = NodeRef<'a>;
    type IntoIter = std::iter::Copied<std::slice::Iter<'w, NodeRef<'a>>>;

    fn into_iter(self) -> Self::IntoIter {
        self.nodes.iter().copied()
    }
}
