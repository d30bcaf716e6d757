"""CVs the eval generates: the habits real CVs have that the offline engine should fix (weak openers, "I",
passive voice, filler, mixed tenses, missing metrics, abbreviations and British spelling against an American
job), written as Markdown (read by our extractor, as an upload would be) or as JSON Resume."""

from __future__ import annotations

from typing import Any

MARKDOWN_CVS: dict[str, str] = {
    "gen-backend-uk.md": """# Priya Raman

Backend Developer
priya.raman@example.org | +44 7700 900123 | Bristol, UK

## Summary

I am a backend developer with 5 years of experience. I build payment APIs in Python and optimised Postgres
for a UK bank.

## Experience

### Backend Developer, Harbourline Bank
Bristol, UK | Jan 2022 – Present

- Responsible for maintaining the payments API in Python and Postgres
- Built event driven services on Kafka that settle 30000 payments a day
- Was tasked with migrating the batch jobs to k8s
- I mentor 2 graduate engineers

### Junior Developer, Cobalt Insurance
Cardiff, UK | Sep 2019 – Dec 2021

- Worked on optimising slow SQL reports for the claims team
- Helped with the move to Docker and continuous integration
- Writes unit tests for the quoting engine

## Education

### BSc Computer Science, Cardiff University
2016 – 2019

## Skills

- Languages: Python, SQL, Go
- Data: Postgres, Redis, Kafka
- Tools: Docker, k8s, Terraform, Git
""",
    "gen-devops.md": """# Marco Bellini

Site Reliability Engineer
marco.bellini@example.net | Milan, Italy

## Summary

Site reliability engineer who keeps SaaS platforms running. Successfully reduced cloud spend and improved
uptime.

## Experience

### Site Reliability Engineer, Nuvola Systems
Milan, Italy | Mar 2021 – Present

- Managing 14 k8s clusters on Amazon Web Services
- Built the continuous delivery pipelines with GitHub Actions
- Effectively automated certificate renewal with Ansible
- Took part in the on call rotation for 40 services

### Systems Administrator, Rete Uno
Turin, Italy | Jun 2017 – Feb 2021

- Administer Linux servers and the company firewall
- Was responsible for writing Terraform modules for the staging environment
- Duties included monitoring with Prometheus and Grafana

## Skills

- Cloud: Amazon Web Services, GCP
- Infrastructure: k8s, Docker, Terraform, Ansible, Linux
- Languages: Python, Bash
""",
    "gen-junior-weak.md": """# Tom Okafor

Graduate Software Developer
tom.okafor@example.com | Leeds, UK

## Summary

I am a hard-working graduate developer. I am passionate about learning new technologies.

## Experience

### Software Development Intern, Meridian Retail
Leeds, UK | Jun 2023 – Sep 2023

- Worked on the company website
- helped with testing the checkout
- Duties included fixing bugs in the JS front end
- I was responsible for writing documentation

### Student Developer, University of Leeds Robotics Society
Leeds, UK | Oct 2021 – May 2023

- Involved in building a line-following robot
- Participated in weekly code reviews

## Education

### BSc Computing, University of Leeds
2020 – 2023

## Skills

- Languages: Python, JS, HTML, CSS
- Tools: Git, React
""",
}

JSON_CVS: dict[str, dict[str, Any]] = {
    "gen-data-analyst-uk.json": {
        "basics": {
            "name": "Eleanor Whitfield",
            "label": "Data Analyst",
            "email": "eleanor.whitfield@example.co.uk",
            "phone": "+44 161 496 0000",
            "location": {"city": "Manchester", "countryCode": "GB"},
            "profiles": [
                {"network": "LinkedIn", "username": "ewhitfield", "url": "https://linkedin.com/in/ewhitfield"}
            ],
            "summary": (
                "I am a data analyst who has analysed retail and subscription data for 4 years. "
                "I specialise in customer segmentation, statistical modelling and data visualisation."
            ),
        },
        "work": [
            {
                "name": "Northern Rail Analytics",
                "position": "Data Analyst",
                "startDate": "2022-02",
                "highlights": [
                    "Responsible for building the weekly KPI dashboards in PowerBI",
                    "Analysed ticket sales to find under-used routes",
                    "Modelled demand forecasts in Python with sklearn and pandas",
                    "I present findings to the operations board every month",
                ],
            },
            {
                "name": "Greengrocer Online",
                "position": "Junior Analyst",
                "startDate": "2020-06",
                "endDate": "2022-01",
                "highlights": [
                    "Visualised basket data in Tableau for the buying team",
                    "Helped with designing A/B tests for the checkout page",
                    "Was responsible for cleaning the customer database in MS Excel and SQL",
                ],
            },
        ],
        "education": [
            {
                "institution": "University of Manchester",
                "area": "Economics",
                "studyType": "BSc",
                "startDate": "2017-09",
                "endDate": "2020-06",
            }
        ],
        "skills": [
            {"name": "Analysis", "keywords": ["SQL", "MS Excel", "Python", "pandas", "sklearn"]},
            {"name": "Visualisation", "keywords": ["Tableau", "PowerBI"]},
        ],
        "languages": [{"language": "English", "fluency": "Native speaker"}],
    },
    "gen-frontend.json": {
        "basics": {
            "name": "Lucía Fernández",
            "label": "Front-end Developer",
            "email": "lucia.fernandez@example.es",
            "url": "https://lucia.example.dev",
            "location": {"city": "Valencia", "countryCode": "ES"},
            "summary": "Front-end developer building realtime web apps with ReactJS and JS for 4 years.",
        },
        "work": [
            {
                "name": "Pixelmar",
                "position": "Front-end Developer",
                "startDate": "2021-03",
                "highlights": [
                    "Building the realtime collaboration features of the editor in ReactJS",
                    "Wrote end to end tests with Playwright for the signup flow",
                    "I improved page load time by 35% by splitting the JS bundle",
                    "Maintained the component library used by 6 teams.",
                ],
            },
            {
                "name": "Agencia Norte",
                "position": "Web Developer",
                "startDate": "2019-01",
                "endDate": "2021-02",
                "highlights": [
                    "Developing responsive marketing sites in html5 and css3",
                    "Worked on integrating REST APIs into client dashboards",
                ],
            },
        ],
        "projects": [
            {
                "name": "tinyboard",
                "description": "Open source kanban board written in TypeScript and ReactJS.",
                "highlights": ["Used by 300 people every week"],
            }
        ],
        "skills": [
            {"name": "Languages", "keywords": ["JS", "TypeScript", "html5", "css3"]},
            {"name": "Frameworks", "keywords": ["ReactJS", "Node.js"]},
            {"name": "Testing", "keywords": ["Playwright", "Jest"]},
        ],
    },
    "gen-marketing-uk.json": {
        "basics": {
            "name": "Hannah Clarke",
            "label": "Marketing Manager",
            "email": "hannah.clarke@example.co.uk",
            "phone": "+44 20 7946 0321",
            "location": {"city": "London", "countryCode": "GB"},
            "summary": (
                "I am a results-driven marketing manager with 7 years in e-commerce. "
                "I have organised product launches and run customer programmes across 3 markets."
            ),
        },
        "work": [
            {
                "name": "Bramble & Co",
                "position": "Marketing Manager",
                "startDate": "2020-04",
                "highlights": [
                    "Organised 12 product launches with the sales and customer success teams",
                    "Successfully optimised paid search campaigns and cut cost per order by 18%",
                    "Manage the customer relationship management system and lifecycle emails",
                    "In charge of a £400k agency budget",
                ],
            },
            {
                "name": "Thread Street",
                "position": "Digital Marketing Executive",
                "startDate": "2017-01",
                "endDate": "2020-03",
                "highlights": [
                    "Responsible for running search engine optimisation for 2,000 product pages",
                    "Analysed campaign results and reported KPIs to the board",
                    "Helped with the relaunch of the loyalty programme",
                ],
            },
        ],
        "education": [
            {
                "institution": "University of Sheffield",
                "area": "Marketing",
                "studyType": "BA",
                "startDate": "2013-09",
                "endDate": "2016-06",
            }
        ],
        "skills": [
            {"name": "Marketing", "keywords": ["search engine optimisation", "paid search", "email marketing"]},
            {"name": "Tools", "keywords": ["Google Analytics", "HubSpot", "Excel"]},
        ],
    },
    "gen-ml-mixed-tense.json": {
        "basics": {
            "name": "Kenji Watanabe",
            "label": "ML Engineer",
            "email": "kenji.watanabe@example.jp",
            "location": {"city": "London", "countryCode": "GB"},
            "summary": (
                "ML engineer working on NLP and model optimization. "
                "I have trained and served transformer models on GPU clusters."
            ),
        },
        "work": [
            {
                "name": "Lumen Labs",
                "position": "Machine Learning Engineer",
                "startDate": "2022-05",
                "highlights": [
                    "Led the quantization of our LLM serving stack on k8s",
                    "Optimizing CUDA kernels for attention layers",
                    "Builds distributed training jobs with PyTorch and Ray",
                ],
            },
            {
                "name": "Sora Robotics",
                "position": "Research Engineer",
                "startDate": "2019-04",
                "endDate": "2022-04",
                "highlights": [
                    "Implement reinforcement learning policies for warehouse robots",
                    "Is responsible for the model compression pipeline",
                    "Publishing 2 papers on language modeling for robot instructions",
                ],
            },
        ],
        "education": [
            {
                "institution": "University of Tokyo",
                "area": "Computer Science",
                "studyType": "MSc",
                "startDate": "2017-04",
                "endDate": "2019-03",
            }
        ],
        "skills": [
            {"name": "ML", "keywords": ["PyTorch", "JAX", "NLP", "LLM"]},
            {"name": "Systems", "keywords": ["CUDA", "C++", "Python", "k8s", "Ray"]},
        ],
    },
}
