//! [`KeyedRows`]: a keyed `<ul>`, used like `<For>`, for a list that grows at its end and loses
//! items anywhere, as the task list does.
//!
//! `<For>` handles any change to a keyed list: moves, inserts in the middle, swaps. In the task
//! list it costs 2.8 KB gzip more than this helper (108,646 against 105,863 B of wasm, from
//! scripts/release.sh), in a bundle that every Jira issue view downloads, and the task list
//! never needs it: a task is added at the end, and one is deleted at a time. So this keeps what `<For>` promises for such changes (a row that
//! stays keeps its elements, its state and its keyboard focus), and handles anything else
//! correctly but simply: the rows from the first one out of place onward are rebuilt.

use std::rc::Rc;

use leptos::prelude::*;

/// A `<ul>` with one child per item of `each`, built by `children` and kept by `key`.
///
/// When `each` changes, the rows whose keys are gone are dropped (their elements removed and
/// their reactive owners disposed of), and the new items' rows are appended. A row is built
/// once per key and never rebuilt while its key stays in place, so a row that should show a
/// changed item holds that item's changing parts in signals (as `<For>` requires too).
#[component]
pub fn KeyedRows<T, K, KF, CF, V, H>(
    /// The items, in order.
    each: RwSignal<Vec<T>>,
    /// An item's key: unique in the list and stable for the item's life.
    key: KF,
    /// Builds an item's row.
    children: CF,
    /// Hides the list while this is true (e.g. while it is empty).
    hidden: H,
    class: &'static str,
    /// The list's accessible name.
    label: &'static str,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    K: PartialEq + 'static,
    KF: Fn(&T) -> K + 'static,
    CF: Fn(T) -> V + 'static,
    V: IntoView + 'static,
    H: Fn() -> bool + Send + Sync + 'static,
{
    let list = NodeRef::<leptos::html::Ul>::new();
    // The rows' owner. Not the effect's: an effect disposes of what it owns each time it runs
    // again, and a row must live until its key goes.
    let owner = Owner::new();
    let children = Rc::new(children);
    // Runs once the `<ul>` exists and again whenever `each` changes; its value is the rows on
    // screen, in order, each with the handle that removes it when dropped.
    Effect::new(move |mounted: Option<Vec<(K, _)>>| {
        let mut mounted = mounted.unwrap_or_default();
        let Some(ul) = list.get() else {
            return mounted;
        };
        each.with(|items| {
            let keys: Vec<K> = items.iter().map(&key).collect();
            let in_place = keep_in_place(&mut mounted, &keys);
            for (item, k) in items.iter().zip(keys).skip(in_place) {
                let (item, children) = (item.clone(), Rc::clone(&children));
                let row =
                    owner.with(|| leptos::mount::mount_to((*ul).clone(), move || children(item)));
                mounted.push((k, row));
            }
        });
        mounted
    });
    view! { <ul node_ref=list class=class aria-label=label hidden=hidden></ul> }
}

/// Drops the rows of `mounted` that are not at their place in `keys` (gone, or after a row that
/// is out of place), and says how many stay: the rows of `keys` from there on are to be built.
fn keep_in_place<K: PartialEq, R>(mounted: &mut Vec<(K, R)>, keys: &[K]) -> usize {
    mounted.retain(|(k, _)| keys.contains(k));
    let in_place = mounted
        .iter()
        .zip(keys)
        .take_while(|((k, _), new)| k == *new)
        .count();
    mounted.truncate(in_place);
    in_place
}

#[cfg(test)]
mod tests {
    use super::keep_in_place;

    /// What stays of `before` for `after`, and which keys are then built.
    fn change(
        before: &[&'static str],
        after: &[&'static str],
    ) -> (Vec<&'static str>, Vec<&'static str>) {
        let mut mounted: Vec<_> = before.iter().map(|k| (*k, ())).collect();
        let kept = keep_in_place(&mut mounted, after);
        let built = after[kept..].to_vec();
        (mounted.into_iter().map(|(k, ())| k).collect(), built)
    }

    #[test]
    fn appending_builds_only_the_new_rows() {
        assert_eq!(
            change(&["a", "b"], &["a", "b", "c"]),
            (vec!["a", "b"], vec!["c"])
        );
        assert_eq!(change(&[], &["a", "b"]), (vec![], vec!["a", "b"]));
    }

    #[test]
    fn removing_anywhere_keeps_every_other_row() {
        assert_eq!(
            change(&["a", "b", "c"], &["a", "c"]),
            (vec!["a", "c"], vec![])
        );
        assert_eq!(
            change(&["a", "b", "c"], &["b", "c"]),
            (vec!["b", "c"], vec![])
        );
        assert_eq!(change(&["a", "b"], &[]), (vec![], vec![]));
    }

    #[test]
    fn other_changes_rebuild_from_the_first_row_out_of_place() {
        // An insert in the middle, a swap, a wholesale replacement: the order on screen is
        // always the order of `each`.
        assert_eq!(
            change(&["a", "c"], &["a", "b", "c"]),
            (vec!["a"], vec!["b", "c"])
        );
        assert_eq!(
            change(&["a", "b", "c"], &["a", "c", "b"]),
            (vec!["a"], vec!["c", "b"])
        );
        assert_eq!(change(&["a", "b"], &["x", "y"]), (vec![], vec!["x", "y"]));
    }
}
