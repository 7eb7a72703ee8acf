package phone

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct {
		in, region, want string
		wantErr          bool
	}{
		{in: "+390112121212", want: "+390112121212"},
		{in: "390112121212", want: "+390112121212"},
		{in: "0039 011 2121212", want: "+390112121212"},
		{in: "+1 (555) 000-2222", want: "+15550002222"},
		{in: "011 2121212", region: "IT", want: "+390112121212"},
		{in: "(415) 555-2671", region: "us", want: "+14155552671"},
		{in: "", wantErr: true},
		{in: "hello", wantErr: true},
		{in: "+1", wantErr: true},
	}
	for _, tt := range tests {
		got, err := Normalize(tt.in, tt.region)
		if (err != nil) != tt.wantErr {
			t.Errorf("Normalize(%q, %q) error = %v, want error %v", tt.in, tt.region, err, tt.wantErr)
			continue
		}
		if got != tt.want {
			t.Errorf("Normalize(%q, %q) = %q, want %q", tt.in, tt.region, got, tt.want)
		}
	}
}

func TestTimeZone(t *testing.T) {
	for _, c := range []struct{ number, zone string }{
		{"+12125550100", "America/New_York"},
		{"+14155550100", "America/Los_Angeles"},
		{"+442071234567", "Europe/London"},
		{"+390112121212", "Europe/Rome"},
	} {
		if z, ok := TimeZone(c.number); !ok || z != c.zone {
			t.Errorf("TimeZone(%s) = %q, %v; want %q", c.number, z, ok, c.zone)
		}
	}
	// A toll-free prefix spans the whole country: no single zone.
	if z, ok := TimeZone("+18005550100"); ok || len(TimeZones("+18005550100")) < 4 {
		t.Errorf("TimeZone(+1 800) = %q, %v; zones %v", z, ok, TimeZones("+18005550100"))
	}
}

func TestIsEmergency(t *testing.T) {
	for number, want := range map[string]bool{"+1911": true, "+44999": true, "+49112": true, "+44112": true,
		"+12125550100": false, "+442071234567": false, "+390112121212": false} {
		if got := IsEmergency(number); got != want {
			t.Errorf("IsEmergency(%s) = %v, want %v", number, got, want)
		}
	}
}
