//! [`Lazy`]: a type-erased view lighter than Leptos's `AnyView`, for the chat's conditional parts.
//!
//! `AnyView` keeps, for each view type it erases, a typed `rebuild` (to patch a view of the same
//! type in place), its own mount/unmount/insert functions and the view's `into_owned` conversion.
//! The chat's erased views never meet one of their own type where they stand (a [`when`] child
//! comes and goes, a footer replaces a footer of another kind, a list row is built once per key),
//! so a `Lazy` is only a boxed "build me" and its state a boxed [`Mountable`]: each view type costs
//! its build and its state's vtable, nothing more. Replacing one `Lazy` with another builds the new
//! one and swaps it in, as `AnyView` does for views of different types.
//!
//! [`when`]: crate::view

use leptos::tachys::html::attribute::any_attribute::AnyAttribute;
use leptos::tachys::html::attribute::Attribute;
use leptos::tachys::hydration::Cursor;
use leptos::tachys::renderer::types::{Element, Node};
use leptos::tachys::view::add_attr::AddAnyAttr;
use leptos::tachys::view::{Mountable, Position, PositionState, Render, RenderHtml};

/// A view to build, its type erased (see the module docs).
pub struct Lazy(Box<dyn FnOnce() -> LazyState + Send + Sync>);

/// A built [`Lazy`]: the view's own state behind a vtable.
pub struct LazyState(Box<dyn Mountable>);

/// Erases `view`'s type (`.into_any()`'s counterpart).
pub fn lazy<V>(view: V) -> Lazy
where
    V: Render + Send + Sync + 'static,
    V::State: 'static,
{
    Lazy(Box::new(move || LazyState(Box::new(view.build()))))
}

impl Mountable for LazyState {
    fn unmount(&mut self) {
        self.0.unmount();
    }

    fn mount(&mut self, parent: &Element, marker: Option<&Node>) {
        self.0.mount(parent, marker);
    }

    fn insert_before_this(&self, child: &mut dyn Mountable) -> bool {
        self.0.insert_before_this(child)
    }

    fn elements(&self) -> Vec<Element> {
        self.0.elements()
    }
}

impl Render for Lazy {
    type State = LazyState;

    fn build(self) -> LazyState {
        (self.0)()
    }

    fn rebuild(self, state: &mut LazyState) {
        let mut new = self.build();
        state.insert_before_this(&mut new);
        state.unmount();
        *state = new;
    }
}

impl AddAnyAttr for Lazy {
    type Output<SomeNewAttr: Attribute> = Lazy;

    fn add_any_attr<NewAttr: Attribute>(self, _attr: NewAttr) -> Lazy {
        self
    }
}

/// `RenderHtml` for the chat's own view types: the chat is rendered in the browser only, so
/// nothing renders to HTML or hydrates. `browser_only_render_html!([generics] View, State, where
/// bounds)`.
macro_rules! browser_only_render_html {
    ([$($generics:tt)*] $view:ty, $state:ty $(, where $($bounds:tt)*)?) => {
        impl<$($generics)*> RenderHtml for $view $(where $($bounds)*)? {
            type AsyncOutput = Self;
            type Owned = Self;

            const MIN_LENGTH: usize = 0;

            fn dry_resolve(&mut self) {}

            async fn resolve(self) -> Self {
                self
            }

            fn to_html_with_buf(self, _: &mut String, _: &mut Position, _: bool, _: bool, _: Vec<AnyAttribute>) {}

            fn hydrate<const FROM_SERVER: bool>(self, _: &Cursor, _: &PositionState) -> $state {
                self.build()
            }

            fn into_owned(self) -> Self {
                self
            }
        }
    };
}
pub(crate) use browser_only_render_html;

browser_only_render_html!([] Lazy, LazyState);

/// `.lazy()`: [`lazy`] as a method, where `.into_any()` would go.
pub trait IntoLazy: Render + Send + Sync + Sized + 'static
where
    Self::State: 'static,
{
    fn lazy(self) -> Lazy {
        lazy(self)
    }
}

impl<V> IntoLazy for V
where
    V: Render + Send + Sync + 'static,
    V::State: 'static,
{
}
