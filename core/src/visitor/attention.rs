//! The visitor's attention as the widget observes it: active seconds, exit intent, and the
//! once-a-second cadence of reporting, sending and asking the prompt engine.
//!
//! Sans-IO: the widget feeds plain observations (the time in ms, the scroll position, visibility,
//! input, the pointer leaving the window, route changes) into one [`Attention`] per page and acts
//! on what comes back ([`Reaction`], [`Tick`]). Time is always an input, so every rule here runs
//! under plain `cargo test`. The heuristics are described in docs/behaviour.md ("Exit intent",
//! "Active time").

use crate::visitor::event::ExitTrigger;
use crate::visitor::event_queue;

/// Input within this long counts the visitor as present.
pub const ACTIVE_WINDOW_MS: u64 = 30_000;
/// Seconds of active time folded into one `active_time` event (real time; test timing shortens it).
pub const REPORT_EVERY_SECONDS: u32 = 5;
/// Exit intent is ignored this soon after a page (or route) opened, and this soon after the last
/// one (real time; test timing shortens both).
pub const EXIT_MIN_PAGE_DWELL_S: u32 = 5;
pub const EXIT_REPEAT_S: u32 = 10;
/// Phone fast scroll-up: this far up, at least this fast, after having read this far down.
pub const FAST_SCROLL_MIN_PX: f64 = 200.0;
pub const FAST_SCROLL_MIN_PX_PER_MS: f64 = 1.0;
pub const FAST_SCROLL_AFTER_PX: f64 = 400.0;
/// A moving page reports a scroll event every frame (tens of ms, even when it stutters); a longer
/// gap means it rested, and an upward run is then timed afresh. Timing it across the rest would
/// make every flick that follows a reading pause (most of them) look slow.
pub const SCROLL_REST_MS: u64 = 200;
/// Hidden for less than this is a flicker (a notification shade), not leaving.
pub const HIDDEN_MIN_MS: u64 = 2_000;
/// Operator presence is asked again this often (ticks = seconds) while the tab is visible.
pub const PRESENCE_EVERY_TICKS: u32 = 60;

/// What the widget does about an observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reaction {
    /// Record an `exit_intent` event with this trigger.
    pub exit_intent: Option<ExitTrigger>,
    /// Ask the prompt engine now, as at an exit intent (`EvalInput::exit_intent`).
    pub ask_engine: bool,
}

impl Reaction {
    const NONE: Reaction = Reaction { exit_intent: None, ask_engine: false };
}

/// What one second (the widget's interval) brings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tick {
    /// The visitor was present this second: fold one active second into the session.
    pub active_second: bool,
    /// Report this many active seconds to the server now (an `active_time` event); 0: none.
    pub report_seconds: u32,
    /// Send the queued events.
    pub flush: bool,
    /// Ask again whether an operator is online.
    pub refresh_presence: bool,
    /// Ask the prompt engine (no exit intent): the tab is visible.
    pub ask_engine: bool,
}

/// A route change, as the widget reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RouteChange {
    /// The route left, when the new one differs: record a page view with it as the referrer.
    pub left: Option<String>,
    pub reaction: Reaction,
}

/// Where the page was at the last scroll event, and the upward run under way.
#[derive(Debug, Clone, Copy)]
struct Scroll {
    y: f64,
    at: u64,
    /// Where (position, time) the current upward run started.
    run: Option<(f64, u64)>,
    deepest: f64,
}

/// One page's attention state; see the module docs.
#[derive(Debug, Clone)]
pub struct Attention {
    /// A touch-first device (`(pointer: coarse)`): the phone signals apply, the desktop one does not.
    phone: bool,
    dwell_ms: u64,
    repeat_ms: u64,
    report_every: u32,
    last_input: u64,
    unreported: u32,
    ticks: u32,
    /// The current route (a URL without its fragment) and when it opened.
    route: String,
    route_opened_at: u64,
    /// The route this document was loaded at: going back to it means the next back leaves.
    first_route: String,
    last_exit: Option<u64>,
    hidden_at: Option<u64>,
    /// An exit intent was recorded while hidden; the engine is asked when the visitor returns.
    exit_while_hidden: bool,
    scroll: Scroll,
}

impl Attention {
    /// The page opened at `now` on `route`. `time_scale` is `rules::time_scale` (1 in production).
    pub fn new(now: u64, route: String, phone: bool, time_scale: u32) -> Attention {
        let scale = time_scale.max(1);
        let scaled_ms = |seconds: u32| u64::from(seconds.div_ceil(scale)) * 1000;
        Attention {
            phone,
            dwell_ms: scaled_ms(EXIT_MIN_PAGE_DWELL_S),
            repeat_ms: scaled_ms(EXIT_REPEAT_S),
            report_every: (REPORT_EVERY_SECONDS / scale).max(1),
            // Arriving on a page is the visitor acting.
            last_input: now,
            unreported: 0,
            ticks: 0,
            first_route: route.clone(),
            route,
            route_opened_at: now,
            last_exit: None,
            hidden_at: None,
            exit_while_hidden: false,
            scroll: Scroll { y: 0.0, at: now, run: None, deepest: 0.0 },
        }
    }

    /// The visitor did something (pointer down or move, key, wheel, touch).
    pub fn input(&mut self, now: u64) {
        self.last_input = now;
    }

    /// The page scrolled to `y` (px from the top). On a phone, the flick that brings back the
    /// browser's address bar is exit intent: after having read [`FAST_SCROLL_AFTER_PX`] down, an
    /// upward run of [`FAST_SCROLL_MIN_PX`] at [`FAST_SCROLL_MIN_PX_PER_MS`] or faster.
    pub fn scrolled(&mut self, now: u64, y: f64) -> Reaction {
        self.last_input = now;
        if !self.phone {
            return Reaction::NONE;
        }
        let scroll = &mut self.scroll;
        let rested = now.saturating_sub(scroll.at) > SCROLL_REST_MS;
        if y >= scroll.y {
            scroll.deepest = scroll.deepest.max(y);
            *scroll = Scroll { y, at: now, run: None, ..*scroll };
            return Reaction::NONE;
        }
        // After a rest this event reports movement of unknown duration (one frame, or the whole
        // rest if the page coalesced it), so the run starts here and is timed from here on.
        let (start_y, start_at) = match scroll.run {
            Some(run) if !rested => run,
            _ if rested => (y, now),
            _ => (scroll.y, scroll.at),
        };
        let distance = start_y - y;
        let elapsed = now.saturating_sub(start_at).max(1) as f64;
        *scroll = Scroll { y, at: now, run: Some((start_y, start_at)), ..*scroll };
        if distance >= FAST_SCROLL_MIN_PX
            && distance / elapsed >= FAST_SCROLL_MIN_PX_PER_MS
            && scroll.deepest >= FAST_SCROLL_AFTER_PX
        {
            scroll.run = None;
            return self.exit_intent(now, ExitTrigger::FastScrollUp, self.route_opened_at);
        }
        Reaction::NONE
    }

    /// A `mouseout` on the document: `left_window` when it has no related target. Leaving through
    /// the top edge (`client_y ≤ 0`, towards the tabs and the address bar) is exit intent on a
    /// desktop; the sides and the bottom (a second monitor, the taskbar) are not, and touch-first
    /// devices, which emulate mouse events, never count.
    pub fn pointer_out(&mut self, now: u64, left_window: bool, client_y: f64) -> Reaction {
        if !left_window || client_y > 0.0 || self.phone {
            return Reaction::NONE;
        }
        self.exit_intent(now, ExitTrigger::PointerTop, self.route_opened_at)
    }

    /// The tab went hidden or came back. On a phone, going hidden is exit intent, recorded at once;
    /// nobody sees a card in a hidden tab, so the engine is asked when the visitor returns after
    /// at least [`HIDDEN_MIN_MS`].
    pub fn visibility(&mut self, now: u64, hidden: bool) -> Reaction {
        if hidden {
            self.hidden_at = Some(now);
            if !self.phone {
                return Reaction::NONE;
            }
            let reaction = self.exit_intent(now, ExitTrigger::TabHidden, self.route_opened_at);
            if reaction.exit_intent.is_some() {
                self.exit_while_hidden = true;
            }
            return Reaction { ask_engine: false, ..reaction };
        }
        let away = self.hidden_at.take().map_or(0, |at| now.saturating_sub(at));
        self.last_input = now;
        let returned = std::mem::take(&mut self.exit_while_hidden) && away >= HIDDEN_MIN_MS;
        Reaction { exit_intent: None, ask_engine: returned }
    }

    /// The page's route is now `route` (its URL without the fragment): after a pushState or
    /// replaceState, or a `popstate` (`popstate`). On a phone, a popstate back to the route the
    /// document was loaded at is exit intent (the next back leaves), its dwell measured on the
    /// route being left.
    pub fn route_changed(&mut self, now: u64, route: &str, popstate: bool) -> RouteChange {
        let left_opened_at = self.route_opened_at;
        let left = (self.route != route).then(|| {
            self.route_opened_at = now;
            std::mem::replace(&mut self.route, route.to_owned())
        });
        let reaction = if popstate && self.phone && self.route == self.first_route {
            self.exit_intent(now, ExitTrigger::BackNavigation, left_opened_at)
        } else {
            Reaction::NONE
        };
        RouteChange { left, reaction }
    }

    /// One second passed (the widget's interval); `visible` is `!document.hidden`.
    pub fn tick(&mut self, now: u64, visible: bool) -> Tick {
        let active_second = visible && now.saturating_sub(self.last_input) <= ACTIVE_WINDOW_MS;
        let mut report_seconds = 0;
        if active_second {
            self.unreported += 1;
            if self.unreported >= self.report_every {
                report_seconds = self.take_unreported();
            }
        }
        self.ticks = self.ticks.wrapping_add(1);
        Tick {
            active_second,
            report_seconds,
            flush: self.ticks.is_multiple_of(event_queue::FLUSH_EVERY_TICKS),
            refresh_presence: visible && self.ticks.is_multiple_of(PRESENCE_EVERY_TICKS),
            ask_engine: visible,
        }
    }

    /// Active seconds not yet reported (already folded into the session), now reported: the page
    /// is going away.
    pub fn take_unreported(&mut self) -> u32 {
        std::mem::take(&mut self.unreported)
    }

    /// All triggers share two guards: nothing within the dwell of the route (`opened_at`), and at
    /// most one per repeat interval.
    fn exit_intent(&mut self, now: u64, trigger: ExitTrigger, opened_at: u64) -> Reaction {
        let too_soon = now.saturating_sub(opened_at) < self.dwell_ms
            || self.last_exit.is_some_and(|last| now.saturating_sub(last) < self.repeat_ms);
        if too_soon {
            return Reaction::NONE;
        }
        self.last_exit = Some(now);
        Reaction { exit_intent: Some(trigger), ask_engine: true }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const T0: u64 = 1_790_000_000_000;
    const HOME: &str = "https://shop.example/";
    const FRAME: u64 = 16;

    fn phone() -> Attention {
        Attention::new(T0, HOME.into(), true, 1)
    }

    fn desktop() -> Attention {
        Attention::new(T0, HOME.into(), false, 1)
    }

    fn exit(trigger: ExitTrigger) -> Reaction {
        Reaction { exit_intent: Some(trigger), ask_engine: true }
    }

    /// Scrolls from `from` to `to` in steps of `step` px, one event every `every` ms, starting at
    /// `at`; returns the time of the last event and every exit intent seen.
    fn scroll(attention: &mut Attention, at: u64, from: f64, to: f64, step: f64, every: u64) -> (u64, Vec<ExitTrigger>) {
        let (mut y, mut t, mut exits) = (from, at, Vec::new());
        loop {
            y = if to > from { (y + step).min(to) } else { (y - step).max(to) };
            t += every;
            exits.extend(attention.scrolled(t, y).exit_intent);
            if y == to {
                return (t, exits);
            }
        }
    }

    /// A phone visitor who read down to 1000 px, past the page dwell; returns the time.
    fn read_down(attention: &mut Attention) -> u64 {
        scroll(attention, T0 + 6_000, 0.0, 1000.0, 20.0, 50).0
    }

    #[test]
    fn a_flick_after_a_reading_pause_is_exit_intent() {
        let mut attention = phone();
        let read = read_down(&mut attention);
        // Two seconds of reading, then 600 px up in about 100 ms.
        let (_, exits) = scroll(&mut attention, read + 2_000, 1000.0, 400.0, 100.0, FRAME);
        assert_eq!(exits, [ExitTrigger::FastScrollUp]);
    }

    #[test]
    fn a_flick_after_a_pause_in_reading_upwards_is_exit_intent() {
        let mut attention = phone();
        let read = read_down(&mut attention);
        let (slow, exits) = scroll(&mut attention, read, 1000.0, 900.0, 20.0, 50);
        assert!(exits.is_empty());
        let (_, exits) = scroll(&mut attention, slow + 3_000, 900.0, 300.0, 100.0, FRAME);
        assert_eq!(exits, [ExitTrigger::FastScrollUp]);
    }

    #[test]
    fn reading_upwards_slowly_is_not_exit_intent() {
        let mut attention = phone();
        let read = read_down(&mut attention);
        // 40 px every 60 ms, straight after reading down, after a pause, and with pauses between.
        let (t, exits) = scroll(&mut attention, read, 1000.0, 600.0, 40.0, 60);
        assert!(exits.is_empty());
        let (t, exits) = scroll(&mut attention, t + 2_000, 600.0, 300.0, 40.0, 60);
        assert!(exits.is_empty());
        let mut t = t;
        for start in [300.0, 260.0, 220.0] {
            let (end, exits) = scroll(&mut attention, t + 1_000, start, start - 40.0, 40.0, 60);
            assert!(exits.is_empty());
            t = end;
        }
    }

    #[test]
    fn a_flick_counts_only_after_reading_down_and_only_on_a_phone() {
        let mut shallow = phone();
        scroll(&mut shallow, T0 + 6_000, 0.0, 390.0, 30.0, 50);
        let (_, exits) = scroll(&mut shallow, T0 + 10_000, 390.0, 0.0, 130.0, FRAME);
        assert!(exits.is_empty(), "not read far enough down");

        let mut short = phone();
        let read = read_down(&mut short);
        let (_, exits) = scroll(&mut short, read + 2_000, 1000.0, 820.0, 60.0, FRAME);
        assert!(exits.is_empty(), "a short run up is adjusting, not leaving");

        let mut on_desktop = desktop();
        let read = read_down(&mut on_desktop);
        let (_, exits) = scroll(&mut on_desktop, read + 2_000, 1000.0, 0.0, 200.0, FRAME);
        assert!(exits.is_empty());
    }

    #[test]
    fn the_existing_jump_back_to_the_top_within_frames_still_counts() {
        // The end-to-end test's gesture: at 900, two frames later at 0.
        let mut attention = phone();
        let read = read_down(&mut attention);
        assert_eq!(attention.scrolled(read + 500, 0.0), Reaction::NONE, "one jump after a rest is not a run");
        assert_eq!(attention.scrolled(read + 1_000, 900.0), Reaction::NONE);
        assert_eq!(attention.scrolled(read + 1_033, 0.0), exit(ExitTrigger::FastScrollUp));
    }

    #[test]
    fn the_pointer_leaving_through_the_top_is_exit_intent_on_a_desktop_only() {
        let mut attention = desktop();
        let later = T0 + 6_000;
        assert_eq!(attention.pointer_out(later, false, -3.0), Reaction::NONE, "into a child element");
        assert_eq!(attention.pointer_out(later, true, 120.0), Reaction::NONE, "through a side or the bottom");
        assert_eq!(attention.pointer_out(later, true, 0.0), exit(ExitTrigger::PointerTop));
        assert_eq!(phone().pointer_out(later, true, -3.0), Reaction::NONE, "a phone's emulated mouse");
    }

    #[test]
    fn exit_intent_waits_for_the_page_dwell_and_repeats_at_most_every_ten_seconds() {
        let mut attention = desktop();
        assert_eq!(attention.pointer_out(T0 + 4_999, true, 0.0), Reaction::NONE);
        assert_eq!(attention.pointer_out(T0 + 5_000, true, 0.0), exit(ExitTrigger::PointerTop));
        assert_eq!(attention.pointer_out(T0 + 14_999, true, 0.0), Reaction::NONE);
        assert_eq!(attention.pointer_out(T0 + 15_000, true, 0.0), exit(ExitTrigger::PointerTop));
        // A new route starts its own dwell.
        assert!(attention.route_changed(T0 + 30_000, "https://shop.example/b", false).left.is_some());
        assert_eq!(attention.pointer_out(T0 + 34_000, true, 0.0), Reaction::NONE);
        // Test timing (60×): both guards are one second.
        let mut fast = Attention::new(T0, HOME.into(), false, 60);
        assert_eq!(fast.pointer_out(T0 + 999, true, 0.0), Reaction::NONE);
        assert_eq!(fast.pointer_out(T0 + 1_000, true, 0.0), exit(ExitTrigger::PointerTop));
        assert_eq!(fast.pointer_out(T0 + 2_000, true, 0.0), exit(ExitTrigger::PointerTop));
    }

    #[test]
    fn going_back_to_the_first_route_on_a_phone_is_exit_intent_after_the_dwell_of_the_route_left() {
        let mut attention = phone();
        let guide = "https://shop.example/guide/";
        let forward = attention.route_changed(T0 + 1_000, guide, false);
        assert_eq!(forward, RouteChange { left: Some(HOME.into()), reaction: Reaction::NONE });
        assert_eq!(attention.route_changed(T0 + 1_500, guide, false).left, None, "the same route counts once");
        // Back to the start after 6 s on the guide: the route it lands on opened just now.
        let back = attention.route_changed(T0 + 7_000, HOME, true);
        assert_eq!(back, RouteChange { left: Some(guide.into()), reaction: exit(ExitTrigger::BackNavigation) });

        let mut quick = phone();
        quick.route_changed(T0 + 10_000, guide, false);
        assert_eq!(quick.route_changed(T0 + 12_000, HOME, true).reaction, Reaction::NONE, "2 s on the route left");
        let mut elsewhere = phone();
        elsewhere.route_changed(T0 + 1_000, guide, false);
        let third = "https://shop.example/third/";
        elsewhere.route_changed(T0 + 2_000, third, false);
        assert_eq!(elsewhere.route_changed(T0 + 9_000, guide, true).reaction, Reaction::NONE, "not the first route");
        let mut on_desktop = desktop();
        on_desktop.route_changed(T0 + 1_000, guide, false);
        assert_eq!(on_desktop.route_changed(T0 + 9_000, HOME, true).reaction, Reaction::NONE);
    }

    #[test]
    fn a_phone_switching_away_records_exit_intent_at_once_and_asks_the_engine_on_return() {
        let mut attention = phone();
        let away = T0 + 6_000;
        assert_eq!(attention.visibility(away, true), Reaction { exit_intent: Some(ExitTrigger::TabHidden), ask_engine: false });
        assert_eq!(attention.visibility(away + 2_500, false), Reaction { exit_intent: None, ask_engine: true });
        // A flicker (a notification shade) is not leaving; and it is asked only once.
        let mut flicker = phone();
        flicker.visibility(away, true);
        assert_eq!(flicker.visibility(away + 1_000, false), Reaction::NONE);
        assert_eq!(flicker.visibility(away + 60_000, true), exit(ExitTrigger::TabHidden).without_engine());
        assert!(flicker.visibility(away + 70_000, false).ask_engine);
        assert_eq!(flicker.visibility(away + 80_000, false), Reaction::NONE);
        let mut on_desktop = desktop();
        assert_eq!(on_desktop.visibility(away, true), Reaction::NONE);
        assert_eq!(on_desktop.visibility(away + 5_000, false), Reaction::NONE);
    }

    impl Reaction {
        fn without_engine(self) -> Reaction {
            Reaction { ask_engine: false, ..self }
        }
    }

    #[test]
    fn active_seconds_need_a_visible_tab_and_input_within_thirty_seconds() {
        let mut attention = desktop();
        let ticks: Vec<Tick> = (1..=40).map(|s| attention.tick(T0 + s * 1_000, true)).collect();
        let active = ticks.iter().filter(|t| t.active_second).count();
        assert_eq!(active, 30, "arriving counts as input, for 30 s");
        let reports: Vec<u32> = ticks.iter().map(|t| t.report_seconds).filter(|&s| s > 0).collect();
        assert_eq!(reports, [5; 6]);
        assert!(!attention.tick(T0 + 41_000, false).active_second);
        attention.input(T0 + 41_500);
        assert!(!attention.tick(T0 + 42_000, false).active_second, "hidden");
        assert!(attention.tick(T0 + 43_000, true).active_second);
        assert_eq!(attention.take_unreported(), 1);
        assert_eq!(attention.take_unreported(), 0);
        // A scroll is input too, and returning to the tab is.
        attention.scrolled(T0 + 100_000, 10.0);
        assert!(attention.tick(T0 + 101_000, true).active_second);
        attention.visibility(T0 + 200_000, false);
        assert!(attention.tick(T0 + 201_000, true).active_second);
        // Test timing reports every second.
        let mut fast = Attention::new(T0, HOME.into(), false, 60);
        assert_eq!(fast.tick(T0 + 1_000, true).report_seconds, 1);
    }

    #[test]
    fn the_tick_flushes_every_five_seconds_and_asks_for_presence_every_minute_while_visible() {
        let mut attention = desktop();
        let ticks: Vec<Tick> = (1..=120).map(|s| attention.tick(T0 + s * 1_000, s <= 60)).collect();
        let flushes: Vec<usize> = (0..120).filter(|&i| ticks[i].flush).map(|i| i + 1).collect();
        assert_eq!(flushes, (1..=24).map(|n| n * 5).collect::<Vec<_>>(), "hidden or not");
        let presence: Vec<usize> = (0..120).filter(|&i| ticks[i].refresh_presence).map(|i| i + 1).collect();
        assert_eq!(presence, [60], "not while hidden");
        assert!(ticks[..60].iter().all(|t| t.ask_engine) && ticks[60..].iter().all(|t| !t.ask_engine));
    }

    #[derive(Debug, Clone)]
    enum Observation {
        Input,
        Scroll(f64),
        PointerOut(bool, f64),
        Visibility(bool),
        Route(u8, bool),
        Tick(bool),
    }

    fn observation() -> impl Strategy<Value = Observation> {
        prop_oneof![
            Just(Observation::Input),
            (0.0..3000.0f64).prop_map(Observation::Scroll),
            (any::<bool>(), -10.0..10.0f64).prop_map(|(left, y)| Observation::PointerOut(left, y)),
            any::<bool>().prop_map(Observation::Visibility),
            (0..3u8, any::<bool>()).prop_map(|(route, pop)| Observation::Route(route, pop)),
            any::<bool>().prop_map(Observation::Tick),
        ]
    }

    proptest! {
        #[test]
        fn exit_intents_keep_their_guards_and_their_device(
            phone_device in any::<bool>(),
            scale in prop_oneof![Just(1u32), Just(60u32)],
            steps in proptest::collection::vec((0..3_000u64, observation()), 1..200),
        ) {
            let mut attention = Attention::new(T0, HOME.into(), phone_device, scale);
            let (dwell, repeat) = (u64::from(5u32.div_ceil(scale)) * 1000, u64::from(10u32.div_ceil(scale)) * 1000);
            let (mut now, mut opened_at, mut route, mut last_exit) = (T0, T0, None::<u8>, None::<u64>);
            let (mut active, mut reported) = (0u32, 0u32);
            for (gap, observation) in steps {
                now += gap;
                let reaction = match observation {
                    Observation::Input => { attention.input(now); Reaction::NONE }
                    Observation::Scroll(y) => attention.scrolled(now, y),
                    Observation::PointerOut(left, y) => attention.pointer_out(now, left, y),
                    Observation::Visibility(hidden) => attention.visibility(now, hidden),
                    Observation::Route(to, popstate) => {
                        let change = attention.route_changed(now, &format!("{HOME}{to}"), popstate);
                        prop_assert_eq!(change.left.is_some(), route != Some(to));
                        route = Some(to);
                        let reaction = change.reaction;
                        if let Some(trigger) = reaction.exit_intent {
                            prop_assert!(now - opened_at >= dwell, "{:?} within the dwell of the route left", trigger);
                        }
                        if change.left.is_some() { opened_at = now; }
                        reaction
                    }
                    Observation::Tick(visible) => {
                        let tick = attention.tick(now, visible);
                        prop_assert!(visible || !tick.active_second);
                        active += u32::from(tick.active_second);
                        reported += tick.report_seconds;
                        Reaction::NONE
                    }
                };
                if let Some(trigger) = reaction.exit_intent {
                    prop_assert!(now - opened_at >= dwell || trigger == ExitTrigger::BackNavigation);
                    prop_assert!(last_exit.is_none_or(|last| now - last >= repeat));
                    last_exit = Some(now);
                    let desktop_trigger = trigger == ExitTrigger::PointerTop;
                    prop_assert_eq!(desktop_trigger, !phone_device);
                    prop_assert_eq!(reaction.ask_engine, trigger != ExitTrigger::TabHidden);
                }
            }
            prop_assert_eq!(active, reported + attention.take_unreported());
        }

        #[test]
        fn reading_upwards_at_under_one_pixel_per_ms_is_never_exit_intent(
            speed in 0.05..0.95f64,
            gaps in proptest::collection::vec(8..400u64, 5..200),
            pause in 0..5_000u64,
        ) {
            let mut attention = phone();
            let read = read_down(&mut attention);
            // Each event reports the movement since the one before, rests included.
            let (mut y, mut t) = (1000.0, read + pause);
            for gap in gaps {
                t += gap;
                y -= speed * gap as f64;
                prop_assert_eq!(attention.scrolled(t, y.max(0.0)), Reaction::NONE);
            }
        }

        #[test]
        fn a_flick_after_any_pause_is_exit_intent(
            pause in 0..10_000u64,
            frame in 8..34u64,
            step in 60.0..200.0f64,
            frames in 5..12usize,
        ) {
            let mut attention = phone();
            let read = read_down(&mut attention);
            let (mut y, mut t, mut exits) = (1000.0, read + pause, Vec::new());
            for _ in 0..frames {
                t += frame;
                y -= step;
                exits.extend(attention.scrolled(t, y.max(0.0)).exit_intent);
            }
            prop_assert_eq!(exits, vec![ExitTrigger::FastScrollUp]);
        }
    }
}
