package analytics

import (
	"context"
	"fmt"
	"io"
	"math"

	"switchboard"
)

// SimTranscriber is the simulated provider: it listens for who speaks when
// and writes a scripted conversation over those turns, with no model and no
// network, so that the simulator's calls (whose recordings are synthetic)
// get transcripts, summaries, scores and webhooks like real ones.
//
// What it produces, exactly:
//
//   - The audio is cut into half-second windows. In a two-channel recording
//     (the SIP driver's: customer left, agent right) a window belongs to the
//     louder channel when its RMS is at least 200 (of 32,768), else it is
//     silence. In a mono recording (the simulator's: the customer a 440 Hz
//     tone, the agent 660 Hz, taking turns every two seconds) a window with
//     an RMS of at least 200 belongs to the customer when its 440 Hz power
//     (Goertzel) beats its 660 Hz power, else to the agent.
//   - Runs of windows of one speaker make a segment, from the start of its
//     first window to the end of its last (seconds).
//   - One of three scripts (billing, delivery, line fault), chosen by the
//     recording's whole seconds modulo 3, gives each speaker's lines: their
//     n turns take the script's opening lines, then its middle lines in a
//     cycle, and end with its closing lines (a speaker's last turns take
//     the closing lines, at most half of their turns, and the first take
//     the opening ones). The customer's first line states their need and
//     the agent's last lines the outcome, so the summary reads naturally.
//   - Language is "en" whatever was asked (the scripts are English);
//     Duration is the recording's length.
//
// So the same recording always gives the same transcript, and the
// simulator's call of a given talk time always the same one.
type SimTranscriber struct{}

// Transcribe implements switchboard.Transcriber.
func (SimTranscriber) Transcribe(ctx context.Context, audio io.Reader, contentType, _ string) (switchboard.Transcript, error) {
	t := switchboard.Transcript{Language: "en", Segments: []switchboard.TranscriptSegment{}}
	f, err := readWAVHeader(audio)
	if err != nil {
		return t, fmt.Errorf("sim transcriber: %s recording: %w", contentType, err)
	}
	window := f.Rate / 2
	fr := newFrameReader(audio, f)
	frame := make([]int16, f.Channels)
	left := make([]float64, 0, window)
	right := make([]float64, 0, window)
	var turns []switchboard.TranscriptSegment
	windows, frames := 0, 0
	for done := false; !done; {
		left, right = left[:0], right[:0]
		for len(left) < window {
			if !fr.next(frame) {
				done = true
				break
			}
			frames++
			left = append(left, float64(frame[0]))
			if f.Channels == 2 {
				right = append(right, float64(frame[1]))
			}
		}
		if len(left) == 0 {
			break
		}
		if windows%64 == 0 && ctx.Err() != nil {
			return t, ctx.Err()
		}
		start := float64(windows) * 0.5
		end := start + float64(len(left))/float64(f.Rate)
		windows++
		who, ok := speakerOf(left, right, f.Rate)
		if !ok {
			continue
		}
		if n := len(turns); n > 0 && turns[n-1].Speaker == who && turns[n-1].End == start {
			turns[n-1].End = end
			continue
		}
		turns = append(turns, switchboard.TranscriptSegment{Speaker: who, Start: start, End: end})
	}
	t.Duration = float64(frames) / float64(f.Rate)
	sc := scripts[int(t.Duration)%len(scripts)]
	counts := map[switchboard.Speaker]int{}
	for _, s := range turns {
		counts[s.Speaker]++
	}
	seen := map[switchboard.Speaker]int{}
	for i, s := range turns {
		lines := sc.customer
		if s.Speaker == switchboard.SpeakerAgent {
			lines = sc.agent
		}
		turns[i].Text = lines.line(seen[s.Speaker], counts[s.Speaker])
		seen[s.Speaker]++
	}
	if turns != nil {
		t.Segments = turns
	}
	return t, nil
}

// speakerOf says who speaks in one window: by channel in stereo, by tone in
// mono (see SimTranscriber); false for silence.
func speakerOf(left, right []float64, rate int) (switchboard.Speaker, bool) {
	const threshold = 200
	if right != nil && len(right) == len(left) && len(right) > 0 {
		l, r := rms(left), rms(right)
		switch {
		case max(l, r) < threshold:
			return "", false
		case l >= r:
			return switchboard.SpeakerCustomer, true
		}
		return switchboard.SpeakerAgent, true
	}
	if rms(left) < threshold {
		return "", false
	}
	if goertzel(left, 440, rate) >= goertzel(left, 660, rate) {
		return switchboard.SpeakerCustomer, true
	}
	return switchboard.SpeakerAgent, true
}

func rms(s []float64) float64 {
	var sum float64
	for _, v := range s {
		sum += v * v
	}
	return math.Sqrt(sum / float64(len(s)))
}

// goertzel is the power of frequency freq in s.
func goertzel(s []float64, freq float64, rate int) float64 {
	w := 2 * math.Pi * freq / float64(rate)
	coeff := 2 * math.Cos(w)
	var s1, s2 float64
	for _, v := range s {
		s0 := v + coeff*s1 - s2
		s2, s1 = s1, s0
	}
	return s1*s1 + s2*s2 - coeff*s1*s2
}

// lines are one speaker's part of a script.
type lines struct{ open, middle, close []string }

// line is the text of a speaker's turn i of n: closing lines for the last
// turns (at most half of them), opening lines for the first, middle lines
// in a cycle between.
func (l lines) line(i, n int) string {
	c := min(len(l.close), n/2)
	o := min(len(l.open), n-c)
	switch {
	case i < o:
		return l.open[i]
	case i >= n-c:
		return l.close[len(l.close)-c+(i-(n-c))]
	}
	return l.middle[(i-o)%len(l.middle)]
}

type script struct{ customer, agent lines }

// scripts are the simulated conversations.
var scripts = []script{
	{ // billing
		customer: lines{
			open: []string{"Hi, I'm calling about a charge on my last invoice that I don't recognise.",
				"It's the one for forty-nine euros on the third.", "Yes, the account number ends in 4471."},
			middle: []string{"Okay.", "Sure, I can wait.", "Right, that makes sense."},
			close:  []string{"Great, thank you so much, that's really helpful.", "No, that's everything. Bye!"},
		},
		agent: lines{
			open: []string{"Thank you for calling, this is Sam. How can I help you today?",
				"I'm sorry about that, let me look into it for you.", "Thank you, I can see the charge now."},
			middle: []string{"Let me check that for you.", "One moment please, I'm still looking.", "Thanks for your patience."},
			close: []string{"The charge was a duplicate, so I've issued a refund; it will be on your card within five days.",
				"Is there anything else I can help you with? Have a great day!"},
		},
	},
	{ // delivery
		customer: lines{
			open: []string{"Hello, I need to know where my order is, it was due yesterday.",
				"The order number is 20318.", "It's going to my home address."},
			middle: []string{"Okay.", "I see.", "Fine, go ahead."},
			close:  []string{"Perfect, thanks for sorting that out.", "That's all, goodbye."},
		},
		agent: lines{
			open: []string{"Good afternoon, thanks for calling. How may I help?",
				"I understand, let me find your order.", "Thanks, I have it here."},
			middle: []string{"I'm checking with the courier now.", "Just a moment longer.", "Thanks for holding."},
			close: []string{"I've rescheduled the delivery for tomorrow morning and sent you the tracking link.",
				"Is there anything else I can do for you? Have a nice day!"},
		},
	},
	{ // line fault
		customer: lines{
			open: []string{"Hi, I have a problem: my internet keeps dropping every few minutes.",
				"Yes, I already restarted the router twice.", "The lights are green now."},
			middle: []string{"Okay.", "Still waiting.", "Alright."},
			close:  []string{"It works now, thank you, that's great.", "No, that's it. Thanks again, bye."},
		},
		agent: lines{
			open: []string{"Good morning, welcome to support. How can I help?",
				"I understand, that must be frustrating. Let me run a line test.", "I can see errors on your line."},
			middle: []string{"The test is still running.", "Bear with me a moment.", "Thanks for waiting."},
			close: []string{"I've reset your line profile and the connection is now stable.",
				"Is there anything else I can help with? Goodbye!"},
		},
	},
}
