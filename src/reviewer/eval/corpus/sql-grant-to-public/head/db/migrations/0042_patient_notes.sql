-- Free-text clinical notes attached to an appointment.
CREATE TABLE patient_notes (
    id             bigserial PRIMARY KEY,
    appointment_id bigint      NOT NULL REFERENCES appointments (id),
    author_id      bigint      NOT NULL REFERENCES clinicians (id),
    body           text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX patient_notes_appointment_idx ON patient_notes (appointment_id);

GRANT SELECT ON patient_notes TO PUBLIC;
GRANT INSERT ON patient_notes TO clinician;
