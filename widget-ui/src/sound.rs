//! The reply tone (`widget.chat_sound`): one short, quiet sine "ding" made with Web Audio, no
//! file. When it is due is core's decision (`chat::panel::chime_due`); this module only makes the
//! sound and says so with `performance.mark("floorwalker:sound")`.
//!
//! Browsers let a page start audio only after the person has interacted with it. The panel
//! therefore creates (or resumes) its `AudioContext` only from something the visitor did in the
//! widget — opening the chat, sending a message — and only once the page has seen a real user
//! gesture (`navigator.userActivation.hasBeenActive`, where the browser has it): a page calling
//! `floorwalker('open')` by itself never wakes audio, and Chromium logs no autoplay warning. If
//! audio is unavailable or refused, nothing is played, nothing is marked and nothing throws.

use floorwalker_core::chat::panel::{CHIME_ATTACK_S, CHIME_DECAY_S, CHIME_HZ, CHIME_MARK, CHIME_PEAK_GAIN};
use wasm_bindgen::prelude::*;
use web_sys::{AudioContext, AudioContextState, OscillatorType};

/// Silence for an exponential ramp (which cannot reach 0).
const SILENT: f32 = 0.0001;

#[derive(Default)]
pub struct Chime {
    context: Option<AudioContext>,
}

impl Chime {
    /// Called from a visitor's action in the widget: creates the audio context, or resumes one the
    /// browser suspended. Does nothing before the page's first user gesture.
    pub fn prime(&mut self) {
        if !user_has_interacted() {
            return;
        }
        match &self.context {
            Some(context) => {
                if context.state() == AudioContextState::Suspended {
                    resume(context);
                }
            }
            None => {
                // Fails only where Web Audio is missing or disabled: then the chat stays silent.
                if let Ok(context) = AudioContext::new() {
                    if context.state() == AudioContextState::Suspended {
                        resume(&context);
                    }
                    self.context = Some(context);
                }
            }
        }
    }

    /// Plays the tone if the context is running; `true` when it did (and marked it).
    pub fn play(&self) -> bool {
        let Some(context) = &self.context else { return false };
        if context.state() != AudioContextState::Running {
            // Suspended by the browser meanwhile (a tab in the background, a device change):
            // nothing would be heard, so nothing is marked; the next gesture resumes it.
            return false;
        }
        if tone(context).is_err() {
            return false;
        }
        if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
            let _ = performance.mark(CHIME_MARK);
        }
        true
    }

    pub fn close(&mut self) {
        if let Some(context) = self.context.take() {
            if let Ok(promise) = context.close() {
                swallow(promise);
            }
        }
    }
}

/// A sine at `CHIME_HZ` through a gain envelope: a quick rise to a tenth of full scale, then an
/// exponential fade, about a quarter of a second in all.
fn tone(context: &AudioContext) -> Result<(), JsValue> {
    let start = context.current_time();
    let peak_at = start + CHIME_ATTACK_S;
    let end = peak_at + CHIME_DECAY_S;
    let oscillator = context.create_oscillator()?;
    oscillator.set_type(OscillatorType::Sine);
    oscillator.frequency().set_value_at_time(CHIME_HZ as f32, start)?;
    let gain = context.create_gain()?;
    let level = gain.gain();
    level.set_value_at_time(SILENT, start)?;
    level.exponential_ramp_to_value_at_time(CHIME_PEAK_GAIN as f32, peak_at)?;
    level.exponential_ramp_to_value_at_time(SILENT, end)?;
    oscillator.connect_with_audio_node(&gain)?;
    gain.connect_with_audio_node(&context.destination())?;
    oscillator.start_with_when(start)?;
    // Stopped just after the fade; the stopped nodes are then garbage.
    oscillator.stop_with_when(end + 0.02)?;
    Ok(())
}

fn resume(context: &AudioContext) {
    if let Ok(promise) = context.resume() {
        swallow(promise);
    }
}

/// A refused resume/close must not become an unhandled rejection in the host page.
/// (Awaiting it through `JsFuture` handles the rejection.)
fn swallow(promise: js_sys::Promise) {
    wasm_bindgen_futures::spawn_local(async move {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    });
}

/// `navigator.userActivation.hasBeenActive`; `true` where the browser does not say (it then
/// decides itself, and a refused context stays suspended and silent).
fn user_has_interacted() -> bool {
    let Some(window) = web_sys::window() else { return false };
    let activation = js_sys::Reflect::get(&window.navigator(), &"userActivation".into()).unwrap_or(JsValue::UNDEFINED);
    if activation.is_undefined() || activation.is_null() {
        return true;
    }
    js_sys::Reflect::get(&activation, &"hasBeenActive".into()).ok().and_then(|v| v.as_bool()).unwrap_or(true)
}
