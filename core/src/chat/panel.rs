//! What the visitor's chat panel decides: when to reconnect, what counts as unread, which of the
//! visitor's own messages carries the "seen" mark, whether to offer the offline form, what is kept
//! in first-party storage, and the panel's words. The widget's chat module (`widget-ui`) only
//! draws this and moves frames; everything here runs under plain `cargo test`.

use serde::{Deserialize, Serialize};

use crate::base::error::ErrorCode;
use crate::base::locale::Locale;
use crate::chat::protocol::{Author, ChatMessage, ConversationStatus, MessageAction, PendingMessage};
use crate::leads::consent::{ConsentPurpose, ConsentText};
use crate::leads::lead::{Contact, LeadKind};

/// First reconnection delay, doubled per failed attempt up to [`BACKOFF_MAX_MS`].
pub const BACKOFF_BASE_MS: u64 = 500;
pub const BACKOFF_MAX_MS: u64 = 30_000;
/// Typing "on" is followed by "off" after this long without a keystroke.
pub const TYPING_IDLE_MS: u64 = 3_000;
/// Messages kept in storage for the next page load (the server holds the rest; a `hello` from
/// the last kept seq fetches only what is newer).
pub const MAX_STORED_MESSAGES: usize = 200;
/// Version of the offline-message consent wording below; bump when the text changes.
pub const OFFLINE_CONSENT_VERSION: &str = "offline-message-2026-11";
pub const CHAT_CONTACT_CONSENT_VERSION: &str = "chat-contact-2026-11";

/// Delay before reconnection attempt `attempt` (0 = the first retry after a drop): exponential
/// from [`BACKOFF_BASE_MS`], capped at [`BACKOFF_MAX_MS`], with "equal jitter": half the delay is
/// fixed, the other half scaled by `jitter` (a random number in `[0, 1)`), so that a thousand
/// widgets dropped by one deploy do not all come back in the same millisecond.
pub fn backoff_ms(attempt: u32, jitter: f64) -> u64 {
    let exp = BACKOFF_BASE_MS.saturating_mul(1u64 << attempt.min(16)).min(BACKOFF_MAX_MS);
    let jitter = if jitter.is_finite() { jitter.clamp(0.0, 1.0) } else { 0.0 };
    exp / 2 + ((exp / 2) as f64 * jitter) as u64
}

/// The socket's state, as the panel shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// No conversation yet: nothing to connect to until the visitor writes.
    Idle,
    Connecting,
    Connected,
    /// Dropped; the next attempt is scheduled.
    Reconnecting,
}

/// Whether someone can answer now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Online,
    /// Within business hours, but no operator is online.
    NobodyOnline,
    /// Outside business hours and no operator online.
    AfterHours,
}

/// An online operator answers whatever the clock says; nobody online means the offline form.
pub fn availability(operator_online: bool, within_business_hours: bool) -> Availability {
    match (operator_online, within_business_hours) {
        (true, _) => Availability::Online,
        (false, true) => Availability::NobodyOnline,
        (false, false) => Availability::AfterHours,
    }
}

/// What the panel's main area shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelMode {
    /// The conversation and the composer.
    Chat,
    /// The conversation (if any), an honest notice and the leave-a-message form.
    Offline(Availability),
}

/// Nobody online and no conversation under way: the form; a conversation already under way stays
/// a chat (the server answers it with a callback offer if nobody replies). Until presence is known
/// (`None`, the first request still under way) the panel is a chat: the visitor may start typing,
/// and a form flashing up for a moment would be a false alarm.
pub fn panel_mode(operator_online: Option<bool>, within_business_hours: bool, has_open_conversation: bool) -> PanelMode {
    let Some(online) = operator_online else { return PanelMode::Chat };
    match availability(online, within_business_hours) {
        Availability::Online => PanelMode::Chat,
        _ if has_open_conversation => PanelMode::Chat,
        other => PanelMode::Offline(other),
    }
}

/// Operator messages after `read_up_to` (the visitor's own read marker). System notices and the
/// visitor's own messages never count.
pub fn unread(messages: &[ChatMessage], read_up_to: u64) -> u64 {
    messages.iter().filter(|m| m.seq > read_up_to && matches!(m.author, Author::Operator { .. })).count() as u64
}

/// The read marker that leaves exactly `unread` operator messages unread, as a `welcome` reports
/// them (the server counts, the client needs a seq to compare new messages with).
pub fn read_marker_for(messages: &[ChatMessage], unread: u64) -> u64 {
    if unread == 0 {
        return messages.last().map_or(0, |m| m.seq);
    }
    let mut left = unread;
    for message in messages.iter().rev() {
        if matches!(message.author, Author::Operator { .. }) {
            left -= 1;
            if left == 0 {
                return message.seq - 1;
            }
        }
    }
    0
}

/// The seq up to which a `read` should be sent now, if any: only while the panel is open and the
/// tab visible, and only when it moves the marker forward.
pub fn read_to_send(messages: &[ChatMessage], read_up_to: u64, open_and_visible: bool) -> Option<u64> {
    let last = messages.last().map_or(0, |m| m.seq);
    (open_and_visible && last > read_up_to).then_some(last)
}

/// The visitor's own message that carries the "seen" mark: the newest one the operator has read.
/// Writing counts as reading everything before (the server moves the writer's marker without a
/// `read` frame), so an operator's message also moves the mark.
pub fn seen_marker(messages: &[ChatMessage], operator_read_up_to: u64) -> Option<u64> {
    let wrote = messages.iter().rev().find(|m| matches!(m.author, Author::Operator { .. })).map_or(0, |m| m.seq);
    let read = operator_read_up_to.max(wrote);
    messages.iter().rev().find(|m| m.author == Author::Visitor && m.seq <= read).map(|m| m.seq)
}

/// Whether the "Leave a contact" button under the server's callback offer is still useful: only
/// until the visitor has left one (the server's `CallbackRequested` notice follows in the log and
/// is the thank-you; a second form would make a second request the server ignores anyway).
pub fn callback_offer_open(messages: &[ChatMessage]) -> bool {
    let offered = messages.iter().rposition(|m| m.action == Some(MessageAction::OfferCallback));
    let requested = messages.iter().rposition(|m| m.action == Some(MessageAction::CallbackRequested));
    match (offered, requested) {
        (Some(offer), Some(request)) => offer > request,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// The conversation's own thank-you once the visitor left a contact after the callback offer,
/// in the conversation's language: the one line that confirms it (the panel adds none of its
/// own), and what operators read in the thread.
pub fn callback_notice(contact: &str, locale: Locale) -> String {
    match locale {
        Locale::Ru => format!("Спасибо! Мы свяжемся с вами: {contact}"),
        Locale::En => format!("Thank you! We will get back to you at {contact}"),
    }
}

/// The greeting in an empty conversation ("we answer right here") — only where that is true:
/// never above the offline notice that says nobody can answer now.
pub fn greeting(mode: PanelMode, locale: Locale) -> Option<&'static str> {
    (mode == PanelMode::Chat).then(|| copy(locale).empty)
}

/// The composer's keyboard hint ("Shift+Enter for a new line"), for a keyboard: a phone's on-screen
/// keyboard has no Shift+Enter, so on a touch screen (`(hover: none) and (pointer: coarse)`) there
/// is none.
pub fn composer_hint(touch_screen: bool, locale: Locale) -> Option<&'static str> {
    (!touch_screen).then(|| copy(locale).hint)
}

/// The launcher's badge: nothing at zero, "9+" beyond nine.
pub fn badge(unread: u64) -> Option<String> {
    match unread {
        0 => None,
        1..=9 => Some(crate::base::text::decimal(unread)),
        _ => Some("9+".to_owned()),
    }
}

/// The document title while the panel is closed and operator messages wait unread; the page's own
/// title when there are none.
pub fn notify_title(page_title: &str, unread: u64, locale: Locale) -> String {
    let Some(count) = badge(unread) else { return page_title.to_owned() };
    let words = match locale {
        Locale::Ru => "Новое сообщение",
        Locale::En => "New message",
    };
    format!("({count}) {words} · {page_title}")
}

/// At most one reply tone this often: a burst of operator messages is one tone, not a drum roll.
pub const CHIME_MIN_INTERVAL_MS: u64 = 4_000;

/// The reply tone, as the panel plays it with Web Audio (one sine, no file): a soft "ding" —
/// pitch, peak gain (quiet: a tenth of full scale), attack and decay.
pub const CHIME_HZ: f64 = 880.0;
pub const CHIME_PEAK_GAIN: f64 = 0.1;
pub const CHIME_ATTACK_S: f64 = 0.015;
pub const CHIME_DECAY_S: f64 = 0.25;
// Short and quiet, checked when core compiles.
const _: () = assert!(CHIME_PEAK_GAIN <= 0.2 && CHIME_ATTACK_S + CHIME_DECAY_S < 0.5);

/// The name of the `performance.mark` the panel sets each time it plays the tone, so a site (or a
/// test) can observe it without any hook.
pub const CHIME_MARK: &str = "floorwalker:sound";

/// Whether a reply tone is due now: the site turned sound on (`widget.chat_sound`), the unread
/// count just grew (an operator wrote and the visitor is not looking: the panel is closed or the
/// tab hidden — the unread count stays 0 while both are open and visible), and no tone was played
/// in the last [`CHIME_MIN_INTERVAL_MS`]. `unread_before` is `None` until the panel has counted
/// once, so messages already waiting when the page loads never ring.
pub fn chime_due(sound_on: bool, unread_before: Option<u64>, unread_now: u64, last_chime_at: Option<u64>, now: u64) -> bool {
    let grew = unread_before.is_some_and(|before| unread_now > before);
    let quiet_long_enough = last_chime_at.is_none_or(|at| now.saturating_sub(at) >= CHIME_MIN_INTERVAL_MS);
    sound_on && grew && quiet_long_enough
}

/// What the chat keeps in first-party storage (`fw:<site>:chat`), so a page load resumes where the
/// last one stopped: the same conversation, its messages and the visitor's unconfirmed ones.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq, Default)]
pub struct StoredChat {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Milliseconds since the Unix epoch, by the server's clock.
    #[serde(default)]
    pub token_expires_at: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub pending: Vec<PendingMessage>,
    /// The visitor's own read marker.
    #[serde(default)]
    pub read_up_to: u64,
    #[serde(default)]
    pub status: ConversationStatus,
}

impl StoredChat {
    /// Keeps the newest [`MAX_STORED_MESSAGES`] messages.
    pub fn trimmed(mut self) -> StoredChat {
        let excess = self.messages.len().saturating_sub(MAX_STORED_MESSAGES);
        self.messages.drain(..excess);
        self
    }

    /// A stored token still good for at least an hour at `now`.
    pub fn usable_token(&self, now: u64) -> Option<&str> {
        self.token.as_deref().filter(|_| self.token_expires_at > now + 3_600_000)
    }
}

/// The contact form in the chat: a message while nobody is online, or a contact after the
/// server's callback offer ([`crate::chat::protocol::MessageAction::OfferCallback`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactForm {
    OfflineMessage,
    CallbackOffer,
}

impl ContactForm {
    pub fn lead_kind(self) -> LeadKind {
        match self {
            ContactForm::OfflineMessage => LeadKind::OfflineMessage,
            ContactForm::CallbackOffer => LeadKind::ChatContact,
        }
    }

    /// The consent the visitor gives by sending the form, in the words shown next to its button.
    pub fn consent(self, locale: Locale) -> ConsentText {
        let (text, version) = match (self, locale) {
            (ContactForm::OfflineMessage, Locale::Ru) => {
                ("Отправляя сообщение, вы соглашаетесь, что мы ответим на него по этой почте или телефону.", OFFLINE_CONSENT_VERSION)
            }
            (ContactForm::OfflineMessage, Locale::En) => {
                ("By sending this message you agree that we reply to it at this email or phone number.", OFFLINE_CONSENT_VERSION)
            }
            (ContactForm::CallbackOffer, Locale::Ru) => {
                ("Оставляя контакт, вы соглашаетесь, что мы свяжемся с вами по этому разговору.", CHAT_CONTACT_CONSENT_VERSION)
            }
            (ContactForm::CallbackOffer, Locale::En) => {
                ("By leaving a contact you agree that we get back to you about this conversation.", CHAT_CONTACT_CONSENT_VERSION)
            }
        };
        let purpose: ConsentPurpose = self.lead_kind().consent_purpose();
        ConsentText { purpose, text: text.to_owned(), text_version: version.to_owned() }
    }

    /// The contact as typed: one field that is an email if it has an `@`, else a phone number.
    pub fn contact(self, typed_contact: &str, message: &str) -> Contact {
        let typed = typed_contact.trim().to_owned();
        let (email, phone) = if typed.contains('@') { (Some(typed), None) } else { (None, Some(typed).filter(|t| !t.is_empty())) };
        let message = match self {
            ContactForm::OfflineMessage => Some(message.trim().to_owned()).filter(|m| !m.is_empty()),
            ContactForm::CallbackOffer => None,
        };
        Contact { email, phone, message, ..Contact::default() }
    }
}

/// The panel's own words.
pub struct ChatCopy {
    pub title: &'static str,
    pub input_label: &'static str,
    pub placeholder: &'static str,
    pub send: &'static str,
    pub hint: &'static str,
    pub empty: &'static str,
    pub connecting: &'static str,
    pub reconnecting: &'static str,
    pub retry_now: &'static str,
    pub sending: &'static str,
    pub failed: &'static str,
    pub seen: &'static str,
    pub typing: &'static str,
    pub you: &'static str,
    pub operator: &'static str,
    pub nobody_online: &'static str,
    pub after_hours: &'static str,
    pub message_label: &'static str,
    pub contact_label: &'static str,
    pub leave_message: &'static str,
    pub leave_contact: &'static str,
    pub offline_done: &'static str,
    pub contact_done: &'static str,
    pub closed: &'static str,
    pub load_failed: &'static str,
    pub new_message: &'static str,
    /// The action under a conversation that reveals the transcript-by-email field.
    pub transcript_action: &'static str,
    pub transcript_label: &'static str,
    pub transcript_send: &'static str,
    /// Why the address is asked for, next to the field (it is used for nothing else: no lead).
    pub transcript_purpose: &'static str,
    pub transcript_failed: &'static str,
    /// The file picker's name, and what is said when a file could not be sent.
    pub attach: &'static str,
    pub attach_failed: &'static str,
    /// Under the callback-offer form: back to the composer without leaving a contact.
    pub back_to_chat: &'static str,
    /// Asked once the conversation has closed, over the scores 1 to 5.
    pub rating_question: &'static str,
    /// Under the scores: what their ends mean.
    pub rating_scale: &'static str,
    /// A score's name for screen readers: "4 of 5".
    pub rating_of: &'static str,
    pub rating_thanks: &'static str,
    pub rating_failed: &'static str,
}

pub fn copy(locale: Locale) -> ChatCopy {
    match locale {
        Locale::Ru => ChatCopy {
            title: "Чат с магазином",
            input_label: "Ваше сообщение",
            placeholder: "Напишите вопрос…",
            send: "Отправить",
            hint: "Enter — отправить, Shift+Enter — новая строка",
            empty: "Здравствуйте! Спросите что угодно о товарах, доставке или оплате — ответим здесь.",
            connecting: "Подключаемся…",
            reconnecting: "Нет связи. Переподключаемся — сообщения отправятся сами.",
            retry_now: "Повторить сейчас",
            sending: "отправляется…",
            failed: "не отправлено",
            seen: "Прочитано",
            typing: "печатает…",
            you: "Вы",
            operator: "Консультант",
            nobody_online: "Сейчас все консультанты заняты и не в сети. Оставьте сообщение и почту или телефон — ответим, как только освободимся.",
            after_hours: "Сейчас мы не работаем. Оставьте сообщение и почту или телефон — ответим в рабочее время.",
            message_label: "Сообщение",
            contact_label: "Почта или телефон",
            leave_message: "Оставить сообщение",
            leave_contact: "Оставить контакт",
            offline_done: "Спасибо! Сообщение получено, мы ответим вам.",
            contact_done: "Спасибо! Мы свяжемся с вами.",
            closed: "Разговор завершён. Напишите, если появится новый вопрос.",
            load_failed: "Чат сейчас не загрузился. Попробуйте открыть его позже.",
            new_message: "Новое сообщение",
            transcript_action: "Прислать переписку на почту",
            transcript_label: "Ваша почта",
            transcript_send: "Прислать",
            transcript_purpose: "Адрес нужен только для того, чтобы прислать эту переписку.",
            transcript_failed: "Не получилось отправить переписку, попробуйте позже.",
            attach: "Прикрепить картинку или PDF",
            attach_failed: "Файл не отправлен, попробуйте ещё раз.",
            back_to_chat: "Вернуться к переписке",
            rating_question: "Как вам этот разговор?",
            rating_scale: "1 — плохо, 5 — отлично",
            rating_of: "из",
            rating_thanks: "Спасибо за оценку!",
            rating_failed: "Не получилось сохранить оценку, попробуйте ещё раз.",
        },
        Locale::En => ChatCopy {
            title: "Chat with the shop",
            input_label: "Your message",
            placeholder: "Type your question…",
            send: "Send",
            hint: "Enter to send, Shift+Enter for a new line",
            empty: "Hello! Ask anything about products, delivery or payment — we answer right here.",
            connecting: "Connecting…",
            reconnecting: "Connection lost. Reconnecting — your messages will be sent.",
            retry_now: "Retry now",
            sending: "sending…",
            failed: "not sent",
            seen: "Seen",
            typing: "is typing…",
            you: "You",
            operator: "Assistant",
            nobody_online: "No one is online right now. Leave a message and an email or phone number — we'll reply as soon as we can.",
            after_hours: "We're closed right now. Leave a message and an email or phone number — we'll reply during opening hours.",
            message_label: "Message",
            contact_label: "Email or phone",
            leave_message: "Leave a message",
            leave_contact: "Leave a contact",
            offline_done: "Thank you! We got your message and will reply.",
            contact_done: "Thank you! We'll get back to you.",
            closed: "This conversation has ended. Write again if you have a new question.",
            load_failed: "The chat didn't load. Please try again later.",
            new_message: "New message",
            transcript_action: "Email me this conversation",
            transcript_label: "Your email",
            transcript_send: "Send",
            transcript_purpose: "We use this address only to send you this conversation.",
            transcript_failed: "The conversation could not be sent, please try again later.",
            attach: "Attach a picture or a PDF",
            attach_failed: "The file was not sent, please try again.",
            back_to_chat: "Back to the chat",
            rating_question: "How was this conversation?",
            rating_scale: "1 — poor, 5 — excellent",
            rating_of: "of",
            rating_thanks: "Thank you for your rating!",
            rating_failed: "The rating could not be saved, please try again.",
        },
    }
}

/// The transcript-by-email action is offered once there is a conversation with something in it.
pub fn offers_transcript(has_conversation: bool, message_count: usize) -> bool {
    has_conversation && message_count > 0
}

/// The address typed into the transcript field, checked and normalised as the server will
/// (`contact::normalize_email`); the error is a code `contact::message` has words for.
pub fn transcript_email(typed: &str) -> Result<String, ErrorCode> {
    if typed.trim().is_empty() {
        return Err(ErrorCode::MissingField);
    }
    crate::leads::contact::normalize_email(typed).map_err(|e| e.code)
}

/// The status once the transcript is on its way: "Sent to a@b.c".
pub fn transcript_sent(email: &str, locale: Locale) -> String {
    match locale {
        Locale::Ru => format!("Отправили на {email}"),
        Locale::En => format!("Sent to {email}"),
    }
}

/// The status line above the composer, if any.
pub fn link_notice(link: Link, locale: Locale) -> Option<&'static str> {
    let text = copy(locale);
    match link {
        Link::Connecting => Some(text.connecting),
        Link::Reconnecting => Some(text.reconnecting),
        Link::Idle | Link::Connected => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::protocol::message_id;

    fn msg(seq: u64, author: Author) -> ChatMessage {
        ChatMessage { seq, id: message_id("c-1", seq), author, text: format!("m{seq}"), at: seq, client_msg_id: None, action: None, attachment: None }
    }

    fn op() -> Author {
        Author::Operator { name: "Anna".into() }
    }

    #[test]
    fn the_callback_offer_closes_once_a_contact_is_left_and_reopens_with_a_new_offer() {
        let with = |seq: u64, action| ChatMessage { action, ..msg(seq, Author::System) };
        assert!(!callback_offer_open(&[msg(1, Author::Visitor)]));
        let offered = vec![msg(1, Author::Visitor), with(2, Some(MessageAction::OfferCallback))];
        assert!(callback_offer_open(&offered));
        let mut answered = offered.clone();
        answered.push(with(3, Some(MessageAction::CallbackRequested)));
        assert!(!callback_offer_open(&answered));
        answered.push(with(4, Some(MessageAction::OfferCallback)));
        assert!(callback_offer_open(&answered));
    }

    #[test]
    fn the_greeting_never_sits_above_the_offline_notice_and_the_hint_is_for_keyboards() {
        assert_eq!(greeting(PanelMode::Chat, Locale::En), Some(copy(Locale::En).empty));
        for availability in [Availability::NobodyOnline, Availability::AfterHours] {
            assert_eq!(greeting(PanelMode::Offline(availability), Locale::Ru), None);
            assert_eq!(greeting(PanelMode::Offline(availability), Locale::En), None);
        }
        assert_eq!(composer_hint(false, Locale::Ru), Some(copy(Locale::Ru).hint));
        assert_eq!(composer_hint(true, Locale::Ru), None);
        assert_eq!(callback_notice("+79123456789", Locale::En), "Thank you! We will get back to you at +79123456789");
        assert!(callback_notice("a@b.ru", Locale::Ru).ends_with(": a@b.ru"));
    }

    #[test]
    fn backoff_grows_caps_and_jitters_within_bounds() {
        assert_eq!(backoff_ms(0, 0.0), 250);
        assert_eq!(backoff_ms(0, 0.999_999), 499);
        assert_eq!(backoff_ms(1, 0.0), 500);
        assert_eq!(backoff_ms(3, 1.0), 4000);
        for attempt in 0..40 {
            for jitter in [0.0, 0.5, 0.99, f64::NAN, -3.0, 7.0] {
                let delay = backoff_ms(attempt, jitter);
                assert!(delay <= BACKOFF_MAX_MS, "{attempt} {jitter} {delay}");
                assert!(delay >= BACKOFF_BASE_MS / 2);
            }
        }
        assert_eq!(backoff_ms(30, 0.0), BACKOFF_MAX_MS / 2);
        // Monotone in the attempt for a fixed jitter.
        assert!((0..20).all(|a| backoff_ms(a, 0.3) <= backoff_ms(a + 1, 0.3)));
    }

    #[test]
    fn offline_form_only_without_an_operator_and_without_a_conversation_under_way() {
        assert_eq!(availability(true, false), Availability::Online);
        assert_eq!(availability(false, true), Availability::NobodyOnline);
        assert_eq!(availability(false, false), Availability::AfterHours);
        assert_eq!(panel_mode(Some(true), false, false), PanelMode::Chat);
        assert_eq!(panel_mode(Some(false), true, false), PanelMode::Offline(Availability::NobodyOnline));
        assert_eq!(panel_mode(Some(false), false, false), PanelMode::Offline(Availability::AfterHours));
        assert_eq!(panel_mode(Some(false), false, true), PanelMode::Chat);
        assert_eq!(panel_mode(None, false, false), PanelMode::Chat, "no form before presence is known");
    }

    #[test]
    fn unread_counts_operator_messages_only() {
        let messages = vec![msg(1, Author::Visitor), msg(2, op()), msg(3, Author::System), msg(4, op()), msg(5, Author::Visitor)];
        assert_eq!(unread(&messages, 0), 2);
        assert_eq!(unread(&messages, 2), 1);
        assert_eq!(unread(&messages, 5), 0);
        for n in 0..=2 {
            assert_eq!(unread(&messages, read_marker_for(&messages, n)), n, "marker for {n}");
        }
        assert_eq!(read_marker_for(&[], 3), 0);
        assert_eq!(read_to_send(&messages, 2, true), Some(5));
        assert_eq!(read_to_send(&messages, 2, false), None);
        assert_eq!(read_to_send(&messages, 5, true), None);
    }

    #[test]
    fn seen_mark_sits_on_the_newest_own_message_read() {
        let messages = vec![msg(1, Author::Visitor), msg(2, Author::Visitor), msg(3, Author::System), msg(4, Author::Visitor)];
        assert_eq!(seen_marker(&messages, 0), None);
        assert_eq!(seen_marker(&messages, 1), Some(1));
        assert_eq!(seen_marker(&messages, 3), Some(2));
        assert_eq!(seen_marker(&messages, 4), Some(4));
        // An operator's answer at 5 means 1..4 were read, whatever the last `read` said.
        let answered = [messages.clone(), vec![msg(5, op()), msg(6, Author::Visitor)]].concat();
        assert_eq!(seen_marker(&answered, 0), Some(4));
        assert_eq!(seen_marker(&answered, 6), Some(6));
    }

    #[test]
    fn badge_and_title() {
        assert_eq!(badge(0), None);
        assert_eq!(badge(3).as_deref(), Some("3"));
        assert_eq!(badge(12).as_deref(), Some("9+"));
        assert_eq!(notify_title("Кроха", 0, Locale::Ru), "Кроха");
        assert_eq!(notify_title("Кроха", 2, Locale::Ru), "(2) Новое сообщение · Кроха");
        assert_eq!(notify_title("Shop", 1, Locale::En), "(1) New message · Shop");
    }

    #[test]
    fn a_reply_rings_once_per_burst_only_when_sound_is_on_and_the_visitor_is_not_looking() {
        let t = 1_790_000_000_000;
        assert!(chime_due(true, Some(0), 1, None, t), "a new unread reply");
        assert!(!chime_due(false, Some(0), 1, None, t), "sound is off by default");
        assert!(!chime_due(true, None, 3, None, t), "replies already waiting at page load");
        assert!(!chime_due(true, Some(0), 0, None, t), "panel open and visible: nothing unread");
        assert!(!chime_due(true, Some(2), 2, None, t), "no new message (the title or a resync)");
        assert!(!chime_due(true, Some(2), 0, None, t), "read");
        // A burst: the second and third arrive within the interval.
        assert!(!chime_due(true, Some(1), 2, Some(t), t + 300));
        assert!(!chime_due(true, Some(2), 3, Some(t), t + CHIME_MIN_INTERVAL_MS - 1));
        assert!(chime_due(true, Some(3), 4, Some(t), t + CHIME_MIN_INTERVAL_MS));
        // A clock that went backwards never rings twice at once.
        assert!(!chime_due(true, Some(1), 2, Some(t), t - 5_000));
    }

    #[test]
    fn stored_chat_round_trips_and_keeps_the_newest() {
        let stored = StoredChat {
            token: Some("t".into()),
            token_expires_at: 10_000_000,
            conversation_id: Some("c-1".into()),
            messages: (1..=MAX_STORED_MESSAGES as u64 + 5).map(|s| msg(s, Author::Visitor)).collect(),
            pending: vec![PendingMessage { client_msg_id: "m-000001".into(), text: "hi".into(), acked_seq: None }],
            read_up_to: 3,
            status: ConversationStatus::Open,
        }
        .trimmed();
        assert_eq!(stored.messages.len(), MAX_STORED_MESSAGES);
        assert_eq!(stored.messages[0].seq, 6);
        let json = serde_json::to_string(&stored).unwrap();
        assert_eq!(serde_json::from_str::<StoredChat>(&json).unwrap(), stored);
        assert_eq!(serde_json::from_str::<StoredChat>("{}").unwrap(), StoredChat::default());
        assert_eq!(stored.usable_token(0), Some("t"));
        assert_eq!(stored.usable_token(8_000_000), None, "less than an hour left");
    }

    #[test]
    fn contact_forms_build_valid_leads() {
        use crate::base::phone::PhoneRegion;
        use crate::leads::lead::LeadRequest;
        let contact = ContactForm::OfflineMessage.contact(" anna@example.com ", " Есть серая? ");
        assert_eq!(contact.email.as_deref(), Some("anna@example.com"));
        assert_eq!(contact.message.as_deref(), Some("Есть серая?"));
        let phone = ContactForm::CallbackOffer.contact("+7 916 123-45-67", "ignored");
        assert_eq!((phone.phone.as_deref(), phone.message.as_deref()), (Some("+7 916 123-45-67"), None));
        for (form, contact) in [(ContactForm::OfflineMessage, contact), (ContactForm::CallbackOffer, phone)] {
            for locale in [Locale::Ru, Locale::En] {
                let request = LeadRequest {
                    site: "demo".into(),
                    visitor: "visitor-0001".into(),
                    kind: form.lead_kind(),
                    prompt: None,
                    contact: contact.clone(),
                    honeypot: String::new(),
                    form_shown_at: 1_790_000_000_000,
                    submitted_at: 1_790_000_005_000,
                    idempotency_key: "idem-0123456789abcdef".into(),
                    consent: form.consent(locale),
                    marketing_consent: None,
                    context: crate::leads::lead::tests::context(),
                    locale,
                    page_url: "https://shop.example/".into(),
                };
                if let Err(e) = request.validate(PhoneRegion::Ru, 1_790_000_006_000) { panic!("{form:?} {locale:?}: {e:?}") }
            }
        }
        let no_message = ContactForm::OfflineMessage.contact("anna@example.com", "  ");
        assert_eq!(no_message.message, None, "the server then refuses it with missing_field");
    }

    #[test]
    fn transcript_is_offered_for_a_conversation_with_messages_and_takes_a_valid_email() {
        assert!(!offers_transcript(false, 0));
        assert!(!offers_transcript(true, 0), "a conversation with nothing in it yet");
        assert!(!offers_transcript(false, 3), "messages kept from a conversation that is gone");
        assert!(offers_transcript(true, 1));
        assert_eq!(transcript_email("  Anna@Example.RU "), Ok("Anna@example.ru".to_owned()));
        assert_eq!(transcript_email("   "), Err(ErrorCode::MissingField));
        for bad in ["anna@", "anna", "+7 916 123-45-67", "a b@c.d"] {
            assert_eq!(transcript_email(bad), Err(ErrorCode::InvalidEmail), "{bad:?}");
        }
        for code in [ErrorCode::MissingField, ErrorCode::InvalidEmail] {
            assert!(crate::leads::contact::message(code, Locale::Ru).is_some());
        }
        assert_eq!(transcript_sent("a@b.co", Locale::En), "Sent to a@b.co");
        assert_eq!(transcript_sent("a@b.co", Locale::Ru), "Отправили на a@b.co");
    }

    #[test]
    fn notices_follow_the_link() {
        assert_eq!(link_notice(Link::Connected, Locale::En), None);
        assert_eq!(link_notice(Link::Idle, Locale::En), None);
        assert!(link_notice(Link::Reconnecting, Locale::Ru).is_some_and(|t| t.contains("Переподключаемся")));
    }
}
