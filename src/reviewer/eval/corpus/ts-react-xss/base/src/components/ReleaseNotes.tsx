import React from "react";

export interface Release {
  version: string;
  date: string;
  notes: string;
}

export function ReleaseNotes({ release }: { release: Release }) {
  return (
    <article className="release">
      <h2>
        {release.version} <small>{release.date}</small>
      </h2>
      <pre className="release-notes">{release.notes}</pre>
    </article>
  );
}
