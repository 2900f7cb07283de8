-- Appointments for the clinical module.
CREATE TABLE appointments (
    id           bigserial PRIMARY KEY,
    patient_id   bigint      NOT NULL REFERENCES patients (id),
    clinician_id bigint      NOT NULL REFERENCES clinicians (id),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    CHECK (ends_at > starts_at)
);

CREATE INDEX appointments_patient_idx ON appointments (patient_id, starts_at);

REVOKE ALL ON appointments FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON appointments TO clinician;
