//! [`Rows`]: the conversation's keyed list, in place of Leptos's `<For>`.
//!
//! `<For>` diffs any reordering of any list (an index set of the keys, move and add commands).
//! The conversation only grows at its end or loses a row (a pending message that was sent, a
//! failed one): the rows that stay keep their order. So the diff here is that: rows whose key is
//! gone are removed, rows that stay are kept as they are (their DOM nodes untouched, so the
//! live region announces only additions, as with `<For>`), and each new row is built and put
//! before the next row that stays, or at the end. A row that stays but comes out of its order
//! (not something the chat does) is built again in its new place. Each row gets its own reactive
//! owner, a child of the list's, as `<For>` gives it.

use std::sync::Arc;

use leptos::prelude::*;
use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::renderer::types::{Element, Node, Placeholder};
use leptos::tachys::renderer::Rndr;
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};

use crate::lazy::{Lazy, LazyState};

/// The list's items now, each with its key, and how a row is drawn. Rendered in a reactive
/// closure: each run diffs against the rows on the page.
pub struct Rows<T> {
    pub items: Vec<(String, T)>,
    pub child: Arc<dyn Fn(T) -> Lazy + Send + Sync>,
    /// The owner the rows' owners are children of: the one the list was made in, not the
    /// closure's (whose children are cleaned up each time it runs).
    pub owner: Owner,
}

struct Row {
    key: String,
    // Dropped before its owner, so the row's cleanups run bottom up (as tachys's `OwnedView`).
    state: LazyState,
    _owner: Owner,
}

pub struct RowsState {
    rows: Vec<Row>,
    /// After the last row: where rows are appended.
    marker: Placeholder,
}

/// Draws `item` under an owner of its own, a child of `parent`.
fn row<T>(parent: &Owner, child: &(dyn Fn(T) -> Lazy + Send + Sync), key: String, item: T) -> Row {
    let owner = parent.with(Owner::new);
    let state = owner.with(|| child(item).build());
    Row { key, state, _owner: owner }
}

impl<T> Render for Rows<T> {
    type State = RowsState;

    fn build(self) -> RowsState {
        let Rows { items, child, owner } = self;
        let rows = items.into_iter().map(|(key, item)| row(&owner, &*child, key, item)).collect();
        RowsState { rows, marker: Rndr::create_placeholder() }
    }

    fn rebuild(self, state: &mut RowsState) {
        let Rows { items: new, child, owner } = self;
        let mut rows = std::mem::take(&mut state.rows);
        // The rows both lists start with stay as they are (most of the time, all but the new ones).
        let same = rows.iter().zip(&new).take_while(|(row, (key, _))| row.key == *key).count();
        let mut kept: Vec<Option<Row>> = rows.drain(same..).map(Some).collect();
        // Rows whose key is gone leave the page.
        for slot in &mut kept {
            if slot.as_ref().is_some_and(|row| !new[same..].iter().any(|(key, _)| *key == row.key)) {
                if let Some(mut gone) = slot.take() {
                    gone.state.unmount();
                }
            }
        }
        let mut next = 0;
        for (key, item) in new.into_iter().skip(same) {
            while kept.get(next).is_some_and(Option::is_none) {
                next += 1;
            }
            if let Some(Some(row)) = kept.get(next) {
                if row.key == key {
                    rows.extend(kept[next].take());
                    next += 1;
                    continue;
                }
            }
            // A row that stays but out of its order (not something the chat does): drawn again here.
            if let Some(slot) = kept.iter_mut().skip(next).find(|slot| slot.as_ref().is_some_and(|row| row.key == key)) {
                if let Some(mut moved) = slot.take() {
                    moved.state.unmount();
                }
            }
            let mut new_row = row(&owner, &*child, key, item);
            match kept[next..].iter().flatten().next() {
                Some(following) => following.state.insert_before_this(&mut new_row.state),
                None => state.marker.insert_before_this(&mut new_row.state),
            };
            rows.push(new_row);
        }
        // Only with a key twice in the list (which the chat never has): nothing stays behind.
        for mut left in kept.into_iter().flatten() {
            left.state.unmount();
        }
        state.rows = rows;
    }
}

impl Mountable for RowsState {
    fn unmount(&mut self) {
        for row in &mut self.rows {
            row.state.unmount();
        }
        self.marker.unmount();
    }

    fn mount(&mut self, parent: &Element, marker: Option<&Node>) {
        for row in &mut self.rows {
            row.state.mount(parent, marker);
        }
        self.marker.mount(parent, marker);
    }

    fn insert_before_this(&self, child: &mut dyn Mountable) -> bool {
        match self.rows.first() {
            Some(row) => row.state.insert_before_this(child),
            None => self.marker.insert_before_this(child),
        }
    }

    fn elements(&self) -> Vec<Element> {
        self.rows.iter().flat_map(|row| row.state.elements()).collect()
    }
}

impl<T> AddAnyAttr for Rows<T>
where
    T: Send + 'static,
{
    type Output<SomeNewAttr: Attribute> = Self;

    fn add_any_attr<NewAttr: Attribute>(self, _attr: NewAttr) -> Self::Output<NewAttr> {
        self
    }
}

crate::lazy::browser_only_render_html!([T] Rows<T>, RowsState, where T: Send + 'static);
