"""CVs the rendering tests render: realistic content, every field used somewhere."""

from __future__ import annotations

REALISTIC_CV: dict[str, object] = {
    "basics": {
        "name": "Jane Marie Doe",
        "label": "Senior Backend Engineer",
        "email": "jane.doe@example.com",
        "phone": "+44 20 7946 0958",
        "url": "https://janedoe.dev",
        "summary": (
            "Backend engineer with eleven years of experience building payment and logistics platforms in "
            "Python and Go. Led teams of up to eight engineers, cut infrastructure costs by a third and "
            "shipped systems that process two million orders a day."
        ),
        "location": {
            "address": "12 Market Street",
            "postalCode": "EC1A 1BB",
            "city": "London",
            "countryCode": "GB",
        },
        "profiles": [
            {"network": "LinkedIn", "username": "janedoe", "url": "https://www.linkedin.com/in/janedoe"},
            {"network": "GitHub", "username": "jdoe-dev", "url": "https://github.com/jdoe-dev"},
        ],
    },
    "work": [
        {
            "name": "Northwind Payments Ltd",
            "position": "Staff Software Engineer",
            "location": "London, UK",
            "url": "https://northwind.example.com",
            "description": "Card acquiring for 40,000 merchants",
            "startDate": "2021-03",
            "summary": "Technical lead of the settlement platform team.",
            "highlights": [
                "Redesigned the settlement pipeline around idempotent batch jobs, reducing failed payouts "
                "from 1.2% to 0.05% across 40,000 merchants.",
                "Migrated 14 services from a shared PostgreSQL cluster to per-service databases without "
                "downtime, using logical replication and dual writes.",
                "Introduced contract tests between 9 teams, cutting integration incidents by 60% in two quarters.",
                "Mentored six engineers; two were promoted to senior within eighteen months.",
            ],
        },
        {
            "name": "Contoso Logistics GmbH",
            "position": "Senior Software Engineer",
            "location": "Berlin, Germany",
            "startDate": "2017-06",
            "endDate": "2021-02",
            "highlights": [
                "Built the route optimisation service in Go that plans 300,000 deliveries a day.",
                "Cut cloud spend by 34% by moving batch workloads to spot instances with checkpointing.",
                "Designed an event-sourced shipment tracker that replaced three legacy systems.",
                "Ran the on-call rotation and wrote the incident review process still used today.",
            ],
        },
        {
            "name": "Fabrikam Retail",
            "position": "Software Engineer",
            "location": "Manchester, UK",
            "startDate": "2014-09",
            "endDate": "2017-05",
            "highlights": [
                "Implemented the checkout API in Django serving 1,500 requests per second at peak.",
                "Added full-text product search with PostgreSQL, improving conversion by 4%.",
                "Automated deployments with Ansible and Jenkins, from weekly releases to daily ones.",
            ],
        },
        {
            "name": "Adatum Consulting",
            "position": "Junior Developer",
            "location": "Leeds, UK",
            "startDate": "2012-07",
            "endDate": "2014-08",
            "highlights": [
                "Delivered eleven client projects in Python and JavaScript on time and on budget.",
                "Wrote the internal style guide and code review checklist adopted by 30 developers.",
            ],
        },
    ],
    "volunteer": [
        {
            "organization": "Code Club UK",
            "url": "https://codeclub.org",
            "position": "Volunteer Mentor",
            "startDate": "2016-01",
            "summary": "Teach programming to children aged 9 to 13 every other Saturday.",
            "highlights": ["Started a Python club at a local library that now has 40 members."],
        }
    ],
    "education": [
        {
            "institution": "University of Manchester",
            "area": "Computer Science",
            "studyType": "MSc",
            "startDate": "2011-09",
            "endDate": "2012-09",
            "score": "Distinction",
            "url": "https://www.manchester.ac.uk/",
            "courses": ["Distributed Systems", "Machine Learning", "Compilers"],
        },
        {
            "institution": "University of Leeds",
            "area": "Mathematics",
            "studyType": "BSc",
            "startDate": "2008-09",
            "endDate": "2011-06",
            "score": "First-class honours",
        },
    ],
    "awards": [
        {
            "title": "Engineering Excellence Award",
            "date": "2023-11",
            "awarder": "Northwind Payments",
            "summary": "For the zero-downtime database migration.",
        }
    ],
    "certificates": [
        {
            "name": "AWS Certified Solutions Architect – Professional",
            "date": "2022-05",
            "issuer": "Amazon Web Services",
        },
        {
            "name": "Certified Kubernetes Administrator",
            "date": "2020-02",
            "issuer": "CNCF",
            "url": "https://www.cncf.io/certification/cka/",
        },
    ],
    "publications": [
        {
            "name": "Idempotent Payouts at Scale",
            "publisher": "PyCon UK",
            "releaseDate": "2023-09",
            "url": "https://example.com/talks/payouts",
            "summary": "Talk on exactly-once settlement with Postgres.",
        }
    ],
    "skills": [
        {"name": "Languages", "level": "Expert", "keywords": ["Python", "Go", "SQL", "TypeScript"]},
        {"name": "Data", "keywords": ["PostgreSQL", "Kafka", "Redis", "BigQuery"]},
        {"name": "Infrastructure", "keywords": ["Kubernetes", "Terraform", "AWS", "GCP"]},
        {"name": "Practices", "keywords": ["Domain-driven design", "Event sourcing", "Observability"]},
    ],
    "languages": [
        {"language": "English", "fluency": "Native"},
        {"language": "German", "fluency": "Professional (C1)"},
        {"language": "Spanish", "fluency": "Conversational (B1)"},
    ],
    "interests": [{"name": "Running", "keywords": ["Half marathons", "Trail running"]}],
    "references": [
        {
            "name": "Dr. Alan Smith, CTO at Northwind Payments",
            "reference": "Jane is the engineer I trust with our hardest migrations.",
        }
    ],
    "projects": [
        {
            "name": "pg-settle",
            "description": "Open-source library for idempotent batch settlement on PostgreSQL.",
            "startDate": "2022-01",
            "url": "https://github.com/jdoe-dev/pg-settle",
            "highlights": ["Used in production by four fintech companies.", "1,200 stars on GitHub."],
            "keywords": ["Python", "PostgreSQL"],
            "roles": ["Maintainer"],
            "entity": "Open source",
            "type": "library",
        }
    ],
}
