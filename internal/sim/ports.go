package sim

import (
	"bytes"
	"context"
	"io"
	"time"

	"switchboard"
	"switchboard/internal/engine"
)

// The simulator as a whole driver: besides call control and media it keeps
// the agents' virtual phones, makes recordings and fax documents up from the
// calls, and stops cleanly.
var _ engine.Driver = (*Driver)(nil)

// DefaultDevice is the phone an agent gets when their extension is first
// provisioned: registered, answering after a second.
var DefaultDevice = Device{Registered: true, Behavior: Answer, AnswerAfter: time.Second}

// Provision implements engine.Devices: a device seen for the first time gets
// DefaultDevice; one already configured (through the control surface) keeps
// its settings.
func (d *Driver) Provision(device string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if _, ok := d.devices[device]; !ok {
		d.devices[device] = DefaultDevice
	}
}

// Registered implements engine.Devices.
func (d *Driver) Registered(device string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.devices[device].Registered
}

// Device reports a virtual phone's settings; ok is false for one never
// provisioned or set.
func (d *Driver) Device(name string) (Device, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dev, ok := d.devices[name]
	return dev, ok
}

// Recording implements engine.Recordings. The simulator keeps no audio: it
// synthesizes the recording from the call's talk time (see WriteRecording);
// a call still in progress gives what has been recorded so far.
//
// A voicemail's recording is the caller's message: as long as the message
// the driver recorded, or, for one recorded before this process started
// (the simulator keeps no audio across restarts), the call's time after the
// greeting.
func (d *Driver) Recording(_ context.Context, c switchboard.Call) (int64, io.ReadCloser, error) {
	talk := c.Talk()
	if c.EndedAt == nil && c.ConnectedAt != nil {
		talk = d.clock.Now().Sub(*c.ConnectedAt)
	}
	if c.VoicemailReason != "" {
		talk = d.messageLength(c)
	}
	pr, pw := io.Pipe()
	go func() {
		// Ends when the recording is written or the reader closes the pipe.
		pw.CloseWithError(WriteRecording(pw, talk))
	}()
	return RecordingSize(talk), pr, nil
}

// messageLength is how long c's voicemail message is (so far).
func (d *Driver) messageLength(c switchboard.Call) time.Duration {
	d.mu.Lock()
	m, ok := d.messages[c.ID]
	d.mu.Unlock()
	switch {
	case ok && m.end.IsZero():
		return max(d.clock.Now().Sub(m.start), 0)
	case ok:
		return m.end.Sub(m.start)
	case c.EndedAt != nil:
		start := c.CreatedAt
		if c.QueuedAt != nil {
			start = *c.QueuedAt
		}
		return max(c.EndedAt.Sub(start)-VoicemailGreeting, 0)
	}
	return 0
}

// FaxDocument implements engine.Faxes: the simulator makes the document of a
// received fax from the call (see WriteFax).
func (d *Driver) FaxDocument(_ context.Context, c switchboard.Call) ([]byte, error) {
	if c.Media != switchboard.MediaFax || c.EndedAt == nil {
		return nil, switchboard.Errorf(switchboard.CodeNotFound, "call %d is not a received fax", c.ID)
	}
	var b bytes.Buffer
	if err := WriteFax(&b, c.FaxPages, c.From, c.To, c.CreatedAt); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Close implements engine.Driver: every leg's timers stop, so no event
// reaches the engine after it.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	for id, l := range d.legs {
		l.done = true
		for _, t := range l.timers {
			t.Stop()
		}
		delete(d.legs, id)
	}
	return nil
}
