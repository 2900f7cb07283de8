package com.acme.projects;

import java.security.Principal;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

@RestController
public class ExportController {
    private final ProjectService projects;
    private final MembershipService members;

    public ExportController(ProjectService projects, MembershipService members) {
        this.projects = projects;
        this.members = members;
    }

    @GetMapping("/projects/{id}/summary")
    public ResponseEntity<ProjectSummary> summary(@PathVariable long id, Principal user) {
        if (!members.isMember(user.getName(), id)) {
            return ResponseEntity.status(403).build();
        }
        return ResponseEntity.ok(projects.summary(id));
    }

    @GetMapping("/projects/{id}/export")
    public ResponseEntity<byte[]> export(@PathVariable long id, Principal user) {
        byte[] archive = projects.exportArchive(id);
        return ResponseEntity.ok()
                .header("Content-Disposition", "attachment; filename=project-" + id + ".zip")
                .body(archive);
    }
}
