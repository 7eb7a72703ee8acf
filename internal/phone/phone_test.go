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
