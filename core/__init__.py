"""The lowest layer, imported by bot/, handlers/ and storage/ and importing none of them: config.yaml loaded and
validated (config), the neutral message types (types), clocks (clock) and the working-day calendar (workcalendar)."""
