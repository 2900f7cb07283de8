import React from "react";
import { marked } from "marked";

export interface Release {
  version: string;
  date: string;
  notes: string;
}

export function ReleaseNotes({ release }: { release: Release }) {
  const html = marked.parse(release.notes, { async: false }) as string;
  return (
    <article className="release">
      <h2>
        {release.version} <small>{release.date}</small>
      </h2>
      <div className="release-notes" dangerouslySetInnerHTML={{ __html: html }} />
    </article>
  );
}
